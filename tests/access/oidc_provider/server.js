// A real OpenID Provider (panva/node-oidc-provider) on loopback for the dashboard's OIDC sign-in test.
// One confidential client (the dashboard), accounts and their roles claim from the environment, and the
// provider's own development login and consent pages (any password: the test is about the dashboard's side).
import Provider from 'oidc-provider';

const required = ['OIDC_PORT', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_REDIRECT_URI', 'OIDC_ACCOUNTS'];
for (const name of required) {
  if (!process.env[name]) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
}
const port = Number(process.env.OIDC_PORT);
const roleClaim = process.env.OIDC_ROLE_CLAIM || 'roles';
// {"alice": ["cockpit-manager"], ...}: the login name is the subject and the preferred_username.
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS);

const provider = new Provider(`http://localhost:${port}`, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post', // what Panel's generic provider sends
  }],
  claims: { openid: ['sub'], profile: ['preferred_username', 'name', roleClaim], email: ['email'] },
  // Panel's generic provider sends no PKCE challenge; its confidential client authenticates with its secret.
  pkce: { required: () => false },
  conformIdTokenClaims: false, // the roles travel in the ID token, as the Keycloak mapper puts them
  async findAccount(ctx, id) {
    if (!(id in accounts)) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: id, email: `${id}@bank.example`, [roleClaim]: accounts[id] };
      },
    };
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on http://localhost:${port}`));
