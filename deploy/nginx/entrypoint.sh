#!/bin/sh
# Render the cockpit site from the environment (only our variables: nginx's own $variables stay), check it, run.
set -eu
: "${COCKPIT_UPSTREAMS:?list the panel serve processes, e.g. 'server cockpit:5006 max_fails=1 fail_timeout=10s;'}"
: "${COCKPIT_SERVER_NAME:=_}" "${COCKPIT_LISTEN_ADDRESS:=0.0.0.0}" "${COCKPIT_HTTP_PORT:=80}"
: "${COCKPIT_HTTPS_PORT:=443}" "${COCKPIT_TLS_CERT:=/etc/nginx/tls/cert.pem}" "${COCKPIT_TLS_KEY:=/etc/nginx/tls/key.pem}"
export COCKPIT_UPSTREAMS COCKPIT_SERVER_NAME COCKPIT_LISTEN_ADDRESS COCKPIT_HTTP_PORT COCKPIT_HTTPS_PORT \
  COCKPIT_TLS_CERT COCKPIT_TLS_KEY
envsubst '${COCKPIT_UPSTREAMS} ${COCKPIT_SERVER_NAME} ${COCKPIT_LISTEN_ADDRESS} ${COCKPIT_HTTP_PORT} ${COCKPIT_HTTPS_PORT} ${COCKPIT_TLS_CERT} ${COCKPIT_TLS_KEY}' \
  < /etc/nginx/templates/cockpit.conf.template > /etc/nginx/conf.d/cockpit.conf
nginx -t
exec nginx -g 'daemon off;'
