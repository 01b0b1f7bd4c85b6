// The AWS SDK for JavaScript v3 (@aws-sdk/client-cognito-identity-provider),
// driven by driver.mjs. It refreshes with GetTokensFromRefreshToken, as
// Amplify does.
import {
  CognitoIdentityProviderClient, InitiateAuthCommand, RespondToAuthChallengeCommand, GetUserCommand,
  GetTokensFromRefreshTokenCommand, GlobalSignOutCommand, RevokeTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';

export const packageName = '@aws-sdk/client-cognito-identity-provider';

export async function create(cfg) {
  const cognito = new CognitoIdentityProviderClient({ region: cfg.region, endpoint: cfg.cognitoEndpoint });
  const ClientId = cfg.clientId;
  let result; // AuthenticationResult of the sign-in, kept after sign-out
  const tokensOf = (r) => ({ accessToken: r.AccessToken, idToken: r.IdToken });

  const start = (username, extra = {}) => cognito.send(new InitiateAuthCommand({
    AuthFlow: 'CUSTOM_AUTH', ClientId, AuthParameters: { USERNAME: username, ...extra },
  }));
  const answer = (username, Session, ANSWER) => cognito.send(new RespondToAuthChallengeCommand({
    ChallengeName: 'CUSTOM_CHALLENGE', ClientId, Session, ChallengeResponses: { USERNAME: username, ANSWER },
  }));

  return {
    async signIn({ username, answer: a }) {
      const { Session } = await start(username);
      const out = await answer(username, Session, a);
      if (!out.AuthenticationResult) return { signedIn: false };
      result = out.AuthenticationResult;
      return { signedIn: true, tokens: tokensOf(result) };
    },
    async wrongAnswers({ username, answers }) {
      let out = await start(username);
      for (const a of answers) {
        if (out.AuthenticationResult) break;
        out = await answer(username, out.Session, a);
      }
      return { signedIn: !!out.AuthenticationResult, step: out.ChallengeName };
    },
    async getUser() {
      const out = await cognito.send(new GetUserCommand({ AccessToken: result.AccessToken }));
      const get = (n) => out.UserAttributes.find((a) => a.Name === n)?.Value;
      return { email: get('email'), sub: get('sub') };
    },
    async refresh() {
      const out = await cognito.send(new GetTokensFromRefreshTokenCommand({ ClientId, RefreshToken: result.RefreshToken }));
      result = { ...out.AuthenticationResult, RefreshToken: out.AuthenticationResult.RefreshToken ?? result.RefreshToken };
      return { tokens: tokensOf(result) };
    },
    async signOut({ global }) {
      if (global) await cognito.send(new GlobalSignOutCommand({ AccessToken: result.AccessToken }));
      else await cognito.send(new RevokeTokenCommand({ ClientId, Token: result.RefreshToken }));
      return {};
    },
    async srpSignIn({ username, answer: a }) {
      // Any client may put SRP_A into CUSTOM_AUTH; here it is a random
      // 3072-bit value, which is all Cognito can check of it before SRP.
      const srpA = Array.from(crypto.getRandomValues(new Uint8Array(384)), (b) => b.toString(16).padStart(2, '0')).join('');
      const out = await start(username, { SRP_A: srpA, CHALLENGE_NAME: 'SRP_A' });
      if (out.ChallengeName !== 'CUSTOM_CHALLENGE') return { signedIn: false, step: out.ChallengeName };
      const done = await answer(username, out.Session, a);
      return { signedIn: !!done.AuthenticationResult };
    },
  };
}
