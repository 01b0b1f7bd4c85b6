// The anchor of make coldstart: a Node handler's init as most Cognito
// magic-link samples write it, importing the AWS SDK v3 Cognito and SES v2
// clients and making one of each at module load. It prints how long that
// took from the process's start (performance.now counts from it) and exits.
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { SESv2Client } from "@aws-sdk/client-sesv2";

const cognito = new CognitoIdentityProviderClient({});
const ses = new SESv2Client({});
if (!cognito || !ses) throw new Error("no clients");
console.log(JSON.stringify({ initMs: performance.now() }));
