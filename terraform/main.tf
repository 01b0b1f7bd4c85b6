# Shared look-ups and names. Each domain (Cognito, Lambda, API, SES, IAM) has
# its own file; what several of them need lives here.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name # "region" exists only in 6.x
  partition  = data.aws_partition.current.partition

  function_name = var.name

  # The pool's lambda_config needs the function's ARN and the function's
  # environment needs the pool's ID: a cycle if both referred to each other.
  # The ARN of a function is fully determined by its name, so it is built here
  # and the pool refers to this local, not to aws_lambda_function.this. The pool
  # is created first (Cognito checks only the ARN's syntax when the pool is
  # created or updated; it resolves and invokes the function when a trigger
  # fires), then the function with the pool's ID, then the invoke permission
  # scoped to the pool's ARN, all in one apply. Nothing signs in before apply ends.
  function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.function_name}"

  # The sign-in page defaults to the API's own GET /sign-in ($default stage, so
  # no stage prefix in the path). The API does not depend on the function, so
  # the function's environment may use the API's endpoint.
  sign_in_url    = coalesce(var.sign_in_url, "${aws_apigatewayv2_api.this.api_endpoint}/sign-in")
  sign_in_origin = regex("^https?://[^/?#]+", local.sign_in_url)

  # What the function answers CORS for (ALLOWED_ORIGINS); defaults to the origin
  # of the sign-in page, as the function itself would.
  allowed_origins = length(var.allowed_origins) > 0 ? var.allowed_origins : [local.sign_in_origin]

  # What API Gateway answers preflight for. It cannot use the API's own endpoint
  # (the API would depend on itself); a page served by the API is same-origin
  # and needs no CORS, so only an explicit list or an external sign-in page count.
  cors_origins = length(var.allowed_origins) > 0 ? var.allowed_origins : (
    var.sign_in_url == null ? [] : [regex("^https?://[^/?#]+", var.sign_in_url)]
  )

  ses_identity_arn          = "arn:${local.partition}:ses:${local.region}:${local.account_id}:identity/${var.ses_identity}"
  ses_configuration_set_arn = "arn:${local.partition}:ses:${local.region}:${local.account_id}:configuration-set/${var.ses_configuration_set}"

  # The testers' own identities, which SES checks too while the account is in
  # the sandbox (see the SendMail statement in iam.tf).
  ses_sandbox_recipient_arns = [for addr in var.ses_sandbox_recipients : "arn:${local.partition}:ses:${local.region}:${local.account_id}:identity/${addr}"]

  # The bare address of email_from: "Example <no-reply@example.com>" and
  # "no-reply@example.com" both give no-reply@example.com (email_from's
  # validation has already checked the shape: what follows its last "<").
  ses_from_address = trimspace(replace(regex("[^<]*$", trimsuffix(trimspace(var.email_from), ">")), "/@[ \\t]*/", "@"))
  ses_from_domain  = lower(regex("[^@]*$", local.ses_from_address))

  # SES lets the function send as an address identity, or as any address of a
  # domain identity and its subdomains; anything else is AccessDenied at every
  # send (see the precondition on aws_lambda_function.this).
  ses_identity_covers_from = contains([lower(local.ses_from_address), local.ses_from_domain], lower(var.ses_identity)) || endswith(local.ses_from_domain, ".${lower(var.ses_identity)}")

  # With link_store = "dynamodb" the function keeps link state in a table of
  # this stack (links.tf); with "attribute" in the user's custom:authChallenge.
  links_table = var.link_store == "dynamodb"
}
