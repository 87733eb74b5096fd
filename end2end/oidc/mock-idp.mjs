// A real OpenID Connect provider on loopback for the tests (oauth2-mock-server: discovery,
// JWKS, authorization code with PKCE, RS256-signed ID tokens with the nonce). Usage:
//   node end2end/oidc/mock-idp.mjs PORT
// The person is chosen by the authorize request's `login_hint` (default sso-ana); their
// groups come from the table below, with the `tp-` prefix the tests configure.
import { OAuth2Server, Events } from 'oauth2-mock-server';

const GROUPS = {
  'sso-ana': ['tp-support', 'staff'],
  'sso-fin': ['tp-finance'],
  'sso-nobody': ['staff'],
  system: ['tp-admin'],
};

const port = Number(process.argv[2] ?? 0);
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
const people = new Map();
server.service.on(Events.BeforeAuthorizeRedirect, (redirect, req) => {
  const asked = new URL(req.url, 'http://idp').searchParams.get('login_hint');
  people.set(redirect.url.searchParams.get('code'), asked || 'sso-ana');
});
server.service.on(Events.BeforeTokenSigning, (token, req) => {
  const person = people.get(req.body?.code) ?? 'sso-ana';
  token.payload.sub = person;
  token.payload.preferred_username = person;
  token.payload.groups = GROUPS[person] ?? [];
});
await server.start(port, '127.0.0.1');
console.log(`issuer ${server.issuer.url}`);
process.on('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});
