# make build writes build/bootstrap.zip (the binary as its one entry,
# bootstrap, mode 0755, the same bytes for the same binary) and beside it
# build/bootstrap.json, which names the binary's architecture as read from its
# ELF header. The function takes its architecture from there, so the binary
# and the function cannot disagree: LAMBDA_ARCH is the one setting.
locals {
  build_dir    = coalesce(var.build_dir, "${path.module}/../build")
  package      = "${local.build_dir}/bootstrap.zip"
  manifest     = try(jsondecode(file("${local.build_dir}/bootstrap.json")), {})
  architecture = try(local.manifest.architecture, "")

  # Mail template overrides: make build TEMPLATES_DIR=... puts them in the zip
  # under templates/ and lists each with its SHA-256 in the manifest. The
  # function runs what the zip holds, so the zip must hold templates_dir as it
  # is now (dot files are not templates: lambdazip skips them too).
  templates_in_dir = var.templates_dir == "" ? {} : {
    for f in fileset(var.templates_dir, "*/*") : f => filesha256("${var.templates_dir}/${f}")
    if !startswith(f, ".") && !startswith(basename(f), ".")
  }
  templates_in_zip = try(local.manifest.templates, {})
}

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "this" {
  function_name = local.function_name
  description   = "Magic-link sign-in: Cognito triggers and the HTTP API"
  role          = aws_iam_role.this.arn

  runtime       = "provided.al2023"
  architectures = [local.architecture]
  handler       = "bootstrap"

  filename         = local.package
  source_code_hash = filebase64sha256(local.package)

  # Cognito waits at most 5 s for a trigger; an answer later than that is lost.
  timeout     = var.timeout
  memory_size = var.memory_size

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  environment {
    variables = merge(
      {
        USER_POOL_ID        = aws_cognito_user_pool.this.id
        USER_POOL_CLIENT_ID = aws_cognito_user_pool_client.this.id
        EMAIL_FROM          = var.email_from
        SIGN_IN_URL         = local.sign_in_url
        LINK_TTL            = var.link_ttl
        RESEND_INTERVAL     = var.resend_interval
        LOGIN_MIN_DURATION  = var.login_min_duration
        SIGN_UP             = var.sign_up
        MAX_ATTEMPTS        = tostring(var.max_attempts)
        ALLOWED_ORIGINS     = join(",", local.allowed_origins)
      },
      var.ses_configuration_set == "" ? {} : { SES_CONFIGURATION_SET = var.ses_configuration_set },
      # Relative: the function takes it under its task root, where the zip
      # is unpacked.
      length(local.templates_in_zip) == 0 ? {} : { TEMPLATES_DIR = "templates" },
      # The per-IP limit counts in the table, so it exists only with it.
      local.links_table ? {
        LINKS_TABLE        = aws_dynamodb_table.links[0].name
        LOGIN_LIMIT_PER_IP = var.login_limit_per_ip
        LINK_SECRET        = terraform_data.link_secret[0].output
      } : {},
    )
  }

  lifecycle {
    precondition {
      condition     = var.templates_dir == "" || length(local.templates_in_dir) > 0
      error_message = "templates_dir (${var.templates_dir}) holds no <lang>/<file> templates; a relative path is from the directory Terraform runs in."
    }

    precondition {
      condition     = jsonencode(local.templates_in_dir) == jsonencode(local.templates_in_zip)
      error_message = "The mail templates in ${local.package} (${jsonencode(keys(local.templates_in_zip))}) are not those of templates_dir (${var.templates_dir == "" ? "none" : var.templates_dir}): run make build TEMPLATES_DIR=<templates_dir> (or make deploy TEMPLATES_DIR=...) before Terraform."
    }

    precondition {
      condition     = contains(["arm64", "x86_64"], local.architecture)
      error_message = "${local.build_dir}/bootstrap.json is missing or names no architecture Lambda runs: run make build (LAMBDA_ARCH=arm64 or x86_64) before Terraform."
    }

    # The role may send only as ses_identity (iam.tf): a sender outside it
    # would apply cleanly, then fail every send with AccessDenied.
    precondition {
      condition     = local.ses_identity_covers_from
      error_message = "The address of email_from (${local.ses_from_address}) does not belong to ses_identity (${var.ses_identity}): use that address, an address of that domain or its subdomains, or name its own verified identity."
    }
  }

  # The role's permissions must exist before Cognito or API Gateway first
  # invoke the function.
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_lambda_permission" "cognito" {
  statement_id  = "AllowCognitoTriggers"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "cognito-idp.amazonaws.com"
  source_arn    = aws_cognito_user_pool.this.arn
}

resource "aws_lambda_permission" "apigateway" {
  statement_id  = "AllowHTTPAPI"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  # Any route of any stage of this API only.
  source_arn = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

# LINK_SECRET keys the codes' MACs and seals the cross-device request handles:
# every instance must share it, and the table alone must not reveal a code.
# Made once from Terraform's own uuid() (no extra provider) and then kept:
# `terraform apply -replace=terraform_data.link_secret` rotates it, which only
# voids the codes and waiting requests outstanding at that moment.
resource "terraform_data" "link_secret" {
  count = local.links_table ? 1 : 0
  input = "${uuid()}${uuid()}"

  lifecycle {
    ignore_changes = [input]
  }
}
