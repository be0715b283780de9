// A real OpenID Connect provider for the tests (the npm package oidc-provider), on localhost.
// Usage: node oidc_provider.mjs CONFIG.json — CONFIG: {port, client: {client_id, client_secret,
// redirect_uris, post_logout_redirect_uris}, accounts: {login: {email, name, roles, ...}}}.
// The dev interactions give a login form (any password) and a consent page; the login typed in
// picks the account, whose claims are served from the userinfo endpoint.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: [{
    ...config.client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'roles', 'groups'],
  },
  pkce: { required: () => true },
  cookies: { keys: ['helpdesk-tests-only-not-a-secret'] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
