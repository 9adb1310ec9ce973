# Dashboard image: multi-stage (dependencies layer first, then the code), non-root, CPU torch, no data inside.
# Build:  docker build -t pret-a-depenser .
# Run:    docker run -p 5006:5006 -v cockpit-data:/data pret-a-depenser
#   The first start prepares the synthetic warehouse and trains the scorer into the /data volume (several minutes,
#   with progress output; the health check's start period covers it); later starts serve at once. To serve real
#   data, put it in the volume and point CREDIT_WAREHOUSE / CREDIT_MODEL_DIR at it. Several replicas behind nginx,
#   compose and Kubernetes: see deploy/ and docs/deployment.md.
#
# Base image pinned by digest, so a rebuild gets the very same OS and Python: python:3.11.10-slim-bookworm (a
# python:3.11-slim of Debian 12), multi-arch index digest as recorded in the Renovate-maintained digest list
# github.com/nalabelle/build (images/digests.Dockerfile). Move it deliberately: `docker buildx imagetools inspect
# python:3.11-slim` prints the current digest.
ARG PYTHON_IMAGE=python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

FROM ${PYTHON_IMAGE} AS dependencies
# CPU wheels of torch/torchvision keep the image small (the default PyPI builds bundle CUDA, several GB).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /build
# Only the dependency declarations: this layer is rebuilt when they change, not when the code does.
COPY pyproject.toml constraints.txt ./
RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0 torchvision==0.28.0 \
 && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > requirements.txt \
 && pip install -c constraints.txt -r requirements.txt

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    HF_HUB_OFFLINE=1 \
    CREDIT_WAREHOUSE=/data/warehouse.duckdb \
    CREDIT_MODEL_DIR=/data/model \
    PROTOVIT_RUN=/data/protovit \
    PROTOVIT_IMAGES=/data/images \
    PORT=5006 \
    PANEL_ADDRESS=0.0.0.0 \
    PANEL_NUM_THREADS=4 \
    PANEL_ALLOW_WEBSOCKET_ORIGIN=localhost:5006
RUN useradd --create-home --uid 1000 app && mkdir -p /data && chown app:app /data
COPY --from=dependencies /opt/venv /opt/venv
WORKDIR /app
COPY README.md pyproject.toml constraints.txt ./
COPY dashboard ./dashboard
COPY warehouse ./warehouse
COPY models ./models
COPY protovit ./protovit
COPY scripts ./scripts
USER app
# Data lives in a volume, prepared at first start by scripts/serve.py (never baked into the image).
VOLUME ["/data"]
EXPOSE 5006
HEALTHCHECK --interval=30s --timeout=5s --start-period=20m --retries=3 \
    CMD python -c "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/liveness', timeout=4).status != 200)"
CMD ["python", "scripts/serve.py"]
