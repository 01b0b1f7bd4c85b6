// amazon-cognito-identity-js: the README's recipe, driven by driver.mjs.
// It refreshes with InitiateAuth REFRESH_TOKEN_AUTH; its authenticateUser
// sends SRP_A even with CUSTOM_AUTH, and so never signs in here.
import cognito from 'amazon-cognito-identity-js';

const { CognitoUserPool, CognitoUser, AuthenticationDetails } = cognito;

export const packageName = 'amazon-cognito-identity-js';

// recipe: identity-js-sign-in
export function signInWithLink(pool, username, answer) {
  const user = new CognitoUser({ Username: username, Pool: pool });
  user.setAuthenticationFlowType('CUSTOM_AUTH');
  let answered = false;
  return new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: (session) => resolve({ user, session }),
      onFailure: reject,
      customChallenge() {
        if (answered) return resolve({ user, session: null }); // the link expired or was used
        answered = true;
        user.sendCustomChallengeAnswer(answer, callbacks);
      },
    };
    // initiateAuth, not authenticateUser: authenticateUser sends SRP_A, and a
    // session that starts with SRP_A never yields tokens here.
    user.initiateAuth(new AuthenticationDetails({ Username: username }), callbacks);
  });
}
// recipe end

const call = (fn) => new Promise((resolve, reject) => fn((err, out) => (err ? reject(err) : resolve(out))));

export async function create(cfg) {
  // recipe: identity-js-pool
  const pool = new CognitoUserPool({
    UserPoolId: cfg.userPoolId,
    ClientId: cfg.clientId,
    endpoint: cfg.cognitoEndpoint, // from /config.json: the local stand-in under make dev
  });
  // recipe end

  let user;
  let session; // kept after sign-out, as another device would keep it
  const tokensOf = (s) => ({
    accessToken: s.getAccessToken().getJwtToken(),
    idToken: s.getIdToken().getJwtToken(),
  });

  return {
    async signIn({ username, answer }) {
      const out = await signInWithLink(pool, username, answer);
      if (!out.session) return { signedIn: false };
      ({ user, session } = out);
      return { signedIn: true, tokens: tokensOf(session) };
    },
    async wrongAnswers({ username, answers }) {
      const u = new CognitoUser({ Username: username, Pool: pool });
      u.setAuthenticationFlowType('CUSTOM_AUTH');
      const left = [...answers];
      return new Promise((resolve, reject) => {
        const callbacks = {
          onSuccess: () => resolve({ signedIn: true }),
          onFailure: reject,
          customChallenge() {
            if (left.length === 0) return resolve({ signedIn: false, step: 'CUSTOM_CHALLENGE' });
            u.sendCustomChallengeAnswer(left.shift(), callbacks);
          },
        };
        u.initiateAuth(new AuthenticationDetails({ Username: username }), callbacks);
      });
    },
    async getUser() {
      user.setSignInUserSession(session);
      const attrs = await call((cb) => user.getUserAttributes(cb));
      const get = (n) => attrs.find((a) => a.getName() === n)?.getValue();
      return { email: get('email'), sub: get('sub') };
    },
    async refresh() {
      const fresh = await call((cb) => user.refreshSession(session.getRefreshToken(), cb));
      session = fresh;
      return { tokens: tokensOf(fresh) };
    },
    async signOut({ global }) {
      user.setSignInUserSession(session);
      if (global) {
        await new Promise((resolve, reject) => user.globalSignOut({ onSuccess: resolve, onFailure: reject }));
      } else {
        await call((cb) => user.signOut((err) => cb(err))); // RevokeToken, then forget
      }
      return {};
    },
    async srpSignIn({ username, answer }) {
      const u = new CognitoUser({ Username: username, Pool: pool });
      u.setAuthenticationFlowType('CUSTOM_AUTH');
      return new Promise((resolve, reject) => {
        const callbacks = {
          onSuccess: () => resolve({ signedIn: true }),
          onFailure: reject,
          customChallenge: () => u.sendCustomChallengeAnswer(answer, callbacks),
        };
        u.authenticateUser(new AuthenticationDetails({ Username: username, Password: 'not-used-by-custom-auth' }), callbacks);
      });
    },
  };
}
