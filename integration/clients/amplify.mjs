// AWS Amplify JS v6 (aws-amplify): the README's recipe, driven by driver.mjs.
// Amplify refreshes with GetTokensFromRefreshToken (6.21 and later).
import { Amplify } from 'aws-amplify';
import { signIn, confirmSignIn } from 'aws-amplify/auth';
import { fetchAuthSession, fetchUserAttributes, signOut } from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import { Hub } from 'aws-amplify/utils';

export const packageName = 'aws-amplify';

// recipe: amplify-sign-in
export async function signInWithLink(username, answer) {
  const { nextStep } = await signIn({ username, options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
  if (nextStep.signInStep !== 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE') return false;
  const { isSignedIn } = await confirmSignIn({ challengeResponse: answer });
  return isSignedIn; // false: the link expired or was used
}
// recipe end

export async function create(cfg) {
  // recipe: amplify-configure
  const memory = new Map();
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: cfg.userPoolId,
        userPoolClientId: cfg.clientId,
        userPoolEndpoint: cfg.cognitoEndpoint, // from /config.json: the local stand-in under make dev
      },
    },
  });
  // Outside a browser (Node, tests), keep the tokens in memory; a browser
  // keeps them in localStorage unless told otherwise.
  cognitoUserPoolsTokenProvider.setKeyValueStorage({
    setItem: async (key, value) => { memory.set(key, value); },
    getItem: async (key) => memory.get(key) ?? null,
    removeItem: async (key) => { memory.delete(key); },
    clear: async () => { memory.clear(); },
  });
  // recipe end

  const tokensOf = (t) => t && { accessToken: t.accessToken.toString(), idToken: t.idToken?.toString() };

  return {
    async signIn({ username, answer }) {
      const signedIn = await signInWithLink(username, answer);
      if (!signedIn) return { signedIn };
      const { tokens } = await fetchAuthSession();
      return { signedIn, tokens: tokensOf(tokens) };
    },
    async wrongAnswers({ username, answers }) {
      let { nextStep } = await signIn({ username, options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
      for (const challengeResponse of answers) {
        if (nextStep.signInStep !== 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE') break;
        ({ nextStep } = await confirmSignIn({ challengeResponse }));
      }
      return { signedIn: nextStep.signInStep === 'DONE', step: nextStep.signInStep };
    },
    async getUser() {
      const attrs = await fetchUserAttributes();
      return { email: attrs.email, sub: attrs.sub };
    },
    async refresh() {
      // A refused refresh makes Amplify drop the tokens and answer none;
      // the reason goes to Hub.
      let failure;
      const stop = Hub.listen('auth', ({ payload }) => {
        if (payload.event === 'tokenRefresh_failure') failure = payload.data?.error;
      });
      try {
        const { tokens } = await fetchAuthSession({ forceRefresh: true });
        if (!tokens) throw failure ?? new Error('fetchAuthSession({forceRefresh: true}) returned no tokens');
        return { tokens: tokensOf(tokens) };
      } finally {
        stop();
      }
    },
    async signOut({ global }) {
      // Amplify drops its tokens on sign-out (and ignores a failed
      // GlobalSignOut or RevokeToken). Put them back, as another tab or
      // device would still hold them, so the test can show that Cognito
      // refuses them now.
      const held = new Map(memory);
      await signOut({ global });
      for (const [k, v] of held) memory.set(k, v);
      return {};
    },
    async srpSignIn({ username, answer }) {
      // CUSTOM_WITH_SRP sends SRP_A with CUSTOM_AUTH: never signs in here.
      const { nextStep } = await signIn({
        username, password: 'not-used-by-custom-auth', options: { authFlowType: 'CUSTOM_WITH_SRP' },
      });
      if (nextStep.signInStep !== 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE') return { signedIn: false, step: nextStep.signInStep };
      const { isSignedIn } = await confirmSignIn({ challengeResponse: answer });
      return { signedIn: isSignedIn };
    },
  };
}
