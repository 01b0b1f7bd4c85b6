// No SDK at all: the two AWS JSON 1.1 calls with fetch, as the README's
// recipe and the sign-in page (web/assets/common.js) make them; driven by
// driver.mjs. It refreshes with InitiateAuth REFRESH_TOKEN_AUTH.
export const packageName = 'node'; // Node's own fetch

// recipe: fetch-sign-in
async function cognito(endpoint, operation, body) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(body),
  });
  const out = await res.json();
  if (!res.ok) throw Object.assign(new Error(out.message), { name: out.__type });
  return out;
}

export async function signInWithLink(cfg, username, answer) {
  const { Session } = await cognito(cfg.cognitoEndpoint, 'InitiateAuth', {
    AuthFlow: 'CUSTOM_AUTH',
    ClientId: cfg.clientId,
    AuthParameters: { USERNAME: username },
  });
  const out = await cognito(cfg.cognitoEndpoint, 'RespondToAuthChallenge', {
    ChallengeName: 'CUSTOM_CHALLENGE',
    ClientId: cfg.clientId,
    Session,
    ChallengeResponses: { USERNAME: username, ANSWER: answer },
  });
  return out.AuthenticationResult ?? null; // null: the link expired or was used
}
// recipe end

export async function create(cfg) {
  const call = (op, body) => cognito(cfg.cognitoEndpoint, op, body);
  let result;
  const tokensOf = (r) => ({ accessToken: r.AccessToken, idToken: r.IdToken });
  return {
    async signIn({ username, answer }) {
      const r = await signInWithLink(cfg, username, answer);
      if (!r) return { signedIn: false };
      result = r;
      return { signedIn: true, tokens: tokensOf(r) };
    },
    async wrongAnswers({ username, answers }) {
      let out = await call('InitiateAuth', { AuthFlow: 'CUSTOM_AUTH', ClientId: cfg.clientId, AuthParameters: { USERNAME: username } });
      for (const ANSWER of answers) {
        if (out.AuthenticationResult) break;
        out = await call('RespondToAuthChallenge', {
          ChallengeName: 'CUSTOM_CHALLENGE', ClientId: cfg.clientId, Session: out.Session,
          ChallengeResponses: { USERNAME: username, ANSWER },
        });
      }
      return { signedIn: !!out.AuthenticationResult, step: out.ChallengeName };
    },
    async getUser() {
      const out = await call('GetUser', { AccessToken: result.AccessToken });
      const get = (n) => out.UserAttributes.find((a) => a.Name === n)?.Value;
      return { email: get('email'), sub: get('sub') };
    },
    async refresh() {
      const out = await call('InitiateAuth', {
        AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: cfg.clientId, AuthParameters: { REFRESH_TOKEN: result.RefreshToken },
      });
      result = { ...out.AuthenticationResult, RefreshToken: out.AuthenticationResult.RefreshToken ?? result.RefreshToken };
      return { tokens: tokensOf(result) };
    },
    async signOut({ global }) {
      if (global) await call('GlobalSignOut', { AccessToken: result.AccessToken });
      else await call('RevokeToken', { ClientId: cfg.clientId, Token: result.RefreshToken });
      return {};
    },
    async srpSignIn({ username, answer }) {
      const srpA = Array.from(crypto.getRandomValues(new Uint8Array(384)), (b) => b.toString(16).padStart(2, '0')).join('');
      const out = await call('InitiateAuth', {
        AuthFlow: 'CUSTOM_AUTH', ClientId: cfg.clientId, AuthParameters: { USERNAME: username, SRP_A: srpA, CHALLENGE_NAME: 'SRP_A' },
      });
      const done = await call('RespondToAuthChallenge', {
        ChallengeName: 'CUSTOM_CHALLENGE', ClientId: cfg.clientId, Session: out.Session,
        ChallengeResponses: { USERNAME: username, ANSWER: answer },
      });
      return { signedIn: !!done.AuthenticationResult };
    },
  };
}
