// A real OpenID Connect provider on loopback for the tests (oauth2-mock-server: discovery,
// JWKS, authorization code with PKCE, refresh tokens, RS256-signed ID tokens with the
// nonce). Usage:
//   node end2end/oidc/mock-idp.mjs PORT [GROUPS_FILE]
// The person is chosen by the authorize request's `login_hint` (default sso-ana), as
// `SUBJECT` or `SUBJECT/NAME` (the same person under a name they changed at the
// provider) or `SUBJECT/NAME/EMAIL` (an email the provider has not verified). Their
// groups come from GROUPS_FILE (JSON, subject -> groups, read at every token, so a test
// can change someone's groups) or else the table below, with the `tp-` prefix the tests
// configure. A refresh token names the person it was issued to.
import { OAuth2Server, Events } from 'oauth2-mock-server';
import { readFileSync } from 'node:fs';

const GROUPS = {
  'sso-ana': ['tp-support', 'staff'],
  'sso-fin': ['tp-finance'],
  'sso-nobody': ['staff'],
  'sso-shouty': ['tp-Admin', 'admin'],
  system: ['tp-admin'],
};

const port = Number(process.argv[2] ?? 0);
const groupsFile = process.argv[3];
const groupsOf = (subject) => {
  if (groupsFile) {
    try {
      const table = JSON.parse(readFileSync(groupsFile, 'utf8'));
      if (subject in table) return table[subject];
    } catch {
      // No file yet: the built-in table.
    }
  }
  return GROUPS[subject] ?? [];
};
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
const byCode = new Map();
const byRefresh = new Map();
server.service.on(Events.BeforeAuthorizeRedirect, (redirect, req) => {
  const asked = new URL(req.url, 'http://idp').searchParams.get('login_hint');
  byCode.set(redirect.url.searchParams.get('code'), asked || 'sso-ana');
});
const personOf = (body) =>
  (body?.grant_type === 'refresh_token' ? byRefresh.get(body.refresh_token) : byCode.get(body?.code)) ??
  'sso-ana';
server.service.on(Events.BeforeTokenSigning, (token, req) => {
  const [subject, name, email] = personOf(req.body).split('/');
  token.payload.sub = subject;
  token.payload.preferred_username = name ?? subject;
  if (email) {
    token.payload.email = email;
    token.payload.email_verified = false;
  }
  token.payload.groups = groupsOf(subject);
});
server.service.on(Events.BeforeResponse, (response, req) => {
  const refresh = response.body?.refresh_token;
  if (refresh) byRefresh.set(refresh, personOf(req.body));
});
await server.start(port, '127.0.0.1');
console.log(`issuer ${server.issuer.url}`);
process.on('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});
