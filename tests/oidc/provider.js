// A loopback OpenID Provider for Platform's SSO tests: the OpenID-certified oidc-provider package, with the clients the test registers
// (OIDC_CLIENTS, a JSON array) and a login the test drives: POST /test/next-login {sub, claims} names who the next interaction signs in;
// login and consent then finish without a page. Prints "listening PORT" once it serves http://127.0.0.1:PORT (the issuer).
import http from 'node:http';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');
const idTokenTtl = Number(process.env.OIDC_ID_TOKEN_TTL || 3600);
const accounts = new Map();
let nextLogin = null;

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients,
    findAccount: async (ctx, sub) => (accounts.has(sub)
      ? { accountId: sub, claims: async () => ({ sub, ...accounts.get(sub) }) }
      : undefined),
    claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    ttl: { IdToken: idTokenTtl, AccessToken: 600, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600 },
    cookies: { keys: ['platform-test-cookie-key'] },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  const callback = provider.callback();

  server.on('request', async (req, res) => {
    try {
      if (req.method === 'POST' && req.url === '/test/next-login') {
        const body = JSON.parse(await read(req));
        accounts.set(body.sub, body.claims || {});
        nextLogin = body.sub;
        res.writeHead(204).end();
        return;
      }
      if (req.url.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(req, res);
        const { prompt, params, session } = details;
        let result;
        if (prompt.name === 'login') {
          if (!nextLogin) {
            res.writeHead(409, { 'content-type': 'text/plain' }).end('no login queued');
            return;
          }
          result = { login: { accountId: nextLogin } };
        } else {
          const grant = details.grantId
            ? await provider.Grant.find(details.grantId)
            : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
          if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
          if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
          result = { consent: { grantId: await grant.save() } };
        }
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
        return;
      }
      callback(req, res);
    } catch (err) {
      console.error(err);
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  console.log(`listening ${port}`);
});

function read(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
