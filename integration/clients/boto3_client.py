"""boto3 (Debian's python3-boto3), driven like driver.mjs drives the npm
clients: one JSON request per line on stdin, one JSON reply per line on
stdout. MAGICLINKS_URL is the local stack; the client reads /config.json.
It refreshes with InitiateAuth REFRESH_TOKEN_AUTH."""

import json
import os
import secrets
import sys
import urllib.request

import boto3
import botocore
from botocore.exceptions import ClientError


def main():
    with urllib.request.urlopen(os.environ["MAGICLINKS_URL"].rstrip("/") + "/config.json") as r:
        cfg = json.load(r)
    cognito = boto3.client("cognito-idp", region_name=cfg["region"], endpoint_url=cfg["cognitoEndpoint"])
    client_id = cfg["clientId"]
    state = {}

    def start(username, **extra):
        return cognito.initiate_auth(AuthFlow="CUSTOM_AUTH", ClientId=client_id,
                                     AuthParameters={"USERNAME": username, **extra})

    def answer(username, session, value):
        return cognito.respond_to_auth_challenge(ChallengeName="CUSTOM_CHALLENGE", ClientId=client_id, Session=session,
                                                 ChallengeResponses={"USERNAME": username, "ANSWER": value})

    def tokens(r):
        return {"accessToken": r["AccessToken"], "idToken": r["IdToken"]}

    def sign_in(username, answer_):
        out = answer(username, start(username)["Session"], answer_)
        if "AuthenticationResult" not in out:
            return {"signedIn": False}
        state["result"] = out["AuthenticationResult"]
        return {"signedIn": True, "tokens": tokens(state["result"])}

    def wrong_answers(username, answers):
        out = start(username)
        for a in answers:
            if "AuthenticationResult" in out:
                break
            out = answer(username, out["Session"], a)
        return {"signedIn": "AuthenticationResult" in out, "step": out.get("ChallengeName")}

    def get_user():
        out = cognito.get_user(AccessToken=state["result"]["AccessToken"])
        attrs = {a["Name"]: a["Value"] for a in out["UserAttributes"]}
        return {"email": attrs.get("email"), "sub": attrs.get("sub")}

    def refresh():
        out = cognito.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=client_id,
                                    AuthParameters={"REFRESH_TOKEN": state["result"]["RefreshToken"]})
        r = out["AuthenticationResult"]
        r.setdefault("RefreshToken", state["result"]["RefreshToken"])
        state["result"] = r
        return {"tokens": tokens(r)}

    def sign_out(global_):
        if global_:
            cognito.global_sign_out(AccessToken=state["result"]["AccessToken"])
        else:
            cognito.revoke_token(ClientId=client_id, Token=state["result"]["RefreshToken"])
        return {}

    def srp_sign_in(username, answer_):
        out = start(username, SRP_A=secrets.token_hex(384), CHALLENGE_NAME="SRP_A")
        if out.get("ChallengeName") != "CUSTOM_CHALLENGE":
            return {"signedIn": False, "step": out.get("ChallengeName")}
        return {"signedIn": "AuthenticationResult" in answer(username, out["Session"], answer_)}

    ops = {
        "signIn": lambda a: sign_in(a["username"], a["answer"]),
        "wrongAnswers": lambda a: wrong_answers(a["username"], a["answers"]),
        "getUser": lambda a: get_user(),
        "refresh": lambda a: refresh(),
        "signOut": lambda a: sign_out(a.get("global", False)),
        "srpSignIn": lambda a: srp_sign_in(a["username"], a["answer"]),
    }
    print(json.dumps({"ok": True, "client": "boto3", "version": boto3.__version__ + " (botocore " + botocore.__version__ + ")"}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            reply = {"ok": True, **ops[req.pop("op")](req)}
        except ClientError as e:
            reply = {"ok": False, "error": {"name": e.response["Error"]["Code"], "message": e.response["Error"].get("Message", "")}}
        except Exception as e:  # noqa: BLE001 - every failure goes back to the test
            reply = {"ok": False, "error": {"name": type(e).__name__, "message": str(e)}}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
