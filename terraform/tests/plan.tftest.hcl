# Plans the module with the real hashicorp/aws provider (its schema, its
# argument validation, its planning) offline: fake credentials, no account
# look-up. terraform_test.go runs it with terraform.tfvars.example as the
# variables file; each run below changes only what it says.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

# The one look-up that needs AWS (STS GetCallerIdentity).
override_data {
  target = data.aws_caller_identity.current
  values = {
    account_id = "123456789012"
  }
}

variables {
  # What make build writes, for arm64 (a stand-in zip).
  build_dir = "tests/fixtures/arm64"
}

# terraform.tfvars.example as it is: the production default, with the table.
run "example" {
  command = plan

  # The link store (DESIGN.md "Contract: the link store").
  assert {
    condition     = aws_dynamodb_table.links[0].name == "magic-links-links" && aws_dynamodb_table.links[0].billing_mode == "PAY_PER_REQUEST"
    error_message = "the links table must be magic-links-links, on demand"
  }
  assert {
    condition     = aws_dynamodb_table.links[0].hash_key == "pk" && aws_dynamodb_table.links[0].range_key == "sk"
    error_message = "key schema: partition key pk, sort key sk"
  }
  assert {
    condition     = toset([for a in aws_dynamodb_table.links[0].attribute : "${a.name}:${a.type}"]) == toset(["pk:S", "sk:S"])
    error_message = "pk and sk must be strings, and the only declared attributes"
  }
  assert {
    condition     = aws_dynamodb_table.links[0].ttl[0].attribute_name == "expiresAt" && aws_dynamodb_table.links[0].ttl[0].enabled
    error_message = "TTL must be on, on expiresAt"
  }
  assert {
    condition     = aws_dynamodb_table.links[0].point_in_time_recovery[0].enabled && aws_dynamodb_table.links[0].server_side_encryption[0].enabled && aws_dynamodb_table.links[0].deletion_protection_enabled
    error_message = "point-in-time recovery, server-side encryption and deletion protection must be on"
  }

  # The function.
  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap" && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "provided.al2023, handler bootstrap, the build's architecture"
  }
  assert {
    condition     = aws_lambda_function.this.timeout < 5
    error_message = "Cognito waits at most 5 s for a trigger"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "Text" && aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/magic-links"
    error_message = "the function logs its JSON lines as text into its own group"
  }

  # The pool, its triggers (the ARN built without a cycle) and its client.
  assert {
    condition = alltrue([for k, v in aws_cognito_user_pool.this.lambda_config[0] : v == "arn:aws:lambda:eu-west-1:123456789012:function:magic-links" if contains(
      ["define_auth_challenge", "create_auth_challenge", "verify_auth_challenge_response", "pre_sign_up", "post_authentication"], k
    )])
    error_message = "every custom-auth trigger must be this function"
  }
  assert {
    condition     = aws_cognito_user_pool.this.username_attributes == toset(["email"]) && aws_cognito_user_pool.this.deletion_protection == "ACTIVE" && aws_cognito_user_pool.this.user_pool_tier == "LITE"
    error_message = "email is the username; deletion protection on; LITE"
  }
  assert {
    condition     = [for s in aws_cognito_user_pool.this.schema : [s.name, s.attribute_data_type, s.mutable, s.string_attribute_constraints[0].max_length]] == [["authChallenge", "String", true, "2048"]]
    error_message = "custom:authChallenge (String, mutable, 2048) is the only custom attribute, in both link_store modes"
  }
  assert {
    condition     = aws_cognito_user_pool_client.this.explicit_auth_flows == toset(["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]) && aws_cognito_user_pool_client.this.prevent_user_existence_errors == "ENABLED" && !aws_cognito_user_pool_client.this.generate_secret
    error_message = "the browser client: custom auth only, no existence errors, no secret"
  }
  assert {
    condition     = length([for a in setunion(aws_cognito_user_pool_client.this.read_attributes, aws_cognito_user_pool_client.this.write_attributes) : a if startswith(a, "custom:")]) == 0 && length(aws_cognito_user_pool_client.this.read_attributes) > 0
    error_message = "the client must not reach custom:authChallenge (and lists its attributes)"
  }

  # The HTTP API.
  assert {
    condition     = toset([for r in aws_apigatewayv2_route.public : r.route_key]) == toset(["POST /login", "GET /login/{request}", "POST /approve", "GET /", "GET /sign-in", "GET /config.json", "GET /assets/{proxy+}"]) && alltrue([for r in aws_apigatewayv2_route.public : r.authorization_type == "NONE"])
    error_message = "the public routes"
  }
  assert {
    condition     = aws_apigatewayv2_route.me.route_key == "GET /me" && aws_apigatewayv2_route.me.authorization_type == "JWT"
    error_message = "GET /me needs a token"
  }
  assert {
    condition     = aws_apigatewayv2_integration.this.payload_format_version == "2.0" && aws_apigatewayv2_integration.this.integration_type == "AWS_PROXY"
    error_message = "payload 2.0 proxy integration"
  }
  assert {
    condition     = !strcontains(aws_apigatewayv2_stage.this.access_log_settings[0].format, "header") && !strcontains(aws_apigatewayv2_stage.this.access_log_settings[0].format, "querystring")
    error_message = "the access log records no headers or query strings"
  }
  assert {
    condition     = !strcontains(aws_apigatewayv2_stage.this.access_log_settings[0].format, "path") && strcontains(aws_apigatewayv2_stage.this.access_log_settings[0].format, "$context.routeKey")
    error_message = "the access log records the route template, never the path (GET /login/{request} carries a handle)"
  }

  # Alarms: Lambda's metrics, the log-line metrics, the table; nobody notified.
  assert {
    condition     = alltrue([for m, a in aws_cloudwatch_metric_alarm.function : a.namespace == "AWS/Lambda" && a.metric_name == m && a.dimensions == tomap({ FunctionName = "magic-links" })]) && length(aws_cloudwatch_metric_alarm.function) == 2
    error_message = "alarms on the function's Errors and Throttles"
  }
  assert {
    condition = { for m, f in aws_cloudwatch_log_metric_filter.function : m => f.pattern if f.log_group_name == "/aws/lambda/magic-links" } == {
      LoginUpstreamFailures = "{ ($.route = \"POST /login\") && ($.status = 502) }"
      MailSendFailures      = "{ $.outcome = \"send_failed\" }"
      LinkStoreFailures     = "{ $.outcome = \"store_failed\" }"
    }
    error_message = "metric filters on the function's log lines"
  }
  assert {
    condition     = alltrue([for m, a in aws_cloudwatch_metric_alarm.logs : a.metric_name == m && a.namespace == "MagicLinks/magic-links"]) && length(aws_cloudwatch_metric_alarm.logs) == 3
    error_message = "an alarm on each log metric"
  }
  assert {
    condition = toset(flatten([for q in aws_cloudwatch_metric_alarm.links_throttles[0].metric_query : [for m in q.metric : "${m.namespace} ${m.metric_name} ${m.dimensions.TableName}"]])) == toset([
      "AWS/DynamoDB ReadThrottleEvents magic-links-links", "AWS/DynamoDB WriteThrottleEvents magic-links-links",
    ])
    error_message = "the throttling alarm watches the links table's read and write throttle events"
  }
  assert {
    condition     = length(aws_sns_topic.alarms) == 0 && alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.function), values(aws_cloudwatch_metric_alarm.logs), aws_cloudwatch_metric_alarm.links_throttles) : a.alarm_actions == null ? true : length(a.alarm_actions) == 0])
    error_message = "without alarm_topic_arn or alarm_emails no topic is made and nobody is notified"
  }
}

# What needs the IDs and ARNs AWS hands out: given here, so the function's
# environment and the whole execution role are known at plan.
run "computed_values" {
  command = plan

  override_resource {
    target          = aws_cognito_user_pool.this
    override_during = plan
    values = {
      id       = "eu-west-1_Example"
      arn      = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Example"
      endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
    }
  }
  override_resource {
    target          = aws_cognito_user_pool_client.this
    override_during = plan
    values          = { id = "exampleclientid" }
  }
  override_resource {
    target          = aws_apigatewayv2_api.this
    override_during = plan
    values = {
      id            = "abc123"
      api_endpoint  = "https://abc123.execute-api.eu-west-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
    }
  }
  override_resource {
    target          = aws_cloudwatch_log_group.function
    override_during = plan
    values          = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/magic-links" }
  }
  override_resource {
    target          = terraform_data.link_secret[0]
    override_during = plan
    values          = { output = "00000000-0000-4000-8000-00000000000000000000-0000-4000-8000-000000000000" }
  }
  override_resource {
    target          = aws_dynamodb_table.links[0]
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/magic-links-links" }
  }

  assert {
    condition = sort(keys(aws_lambda_function.this.environment[0].variables)) == sort([
      "USER_POOL_ID", "USER_POOL_CLIENT_ID", "EMAIL_FROM", "SIGN_IN_URL", "LINK_TTL", "RESEND_INTERVAL",
      "LOGIN_MIN_DURATION", "SIGN_UP", "MAX_ATTEMPTS", "ALLOWED_ORIGINS", "LINKS_TABLE", "LOGIN_LIMIT_PER_IP", "LINK_SECRET",
    ])
    error_message = "environment: exactly the variables of DESIGN.md \"Contract: configuration\" this deployment uses"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.LINKS_TABLE == aws_dynamodb_table.links[0].name && aws_lambda_function.this.environment[0].variables.LOGIN_LIMIT_PER_IP == "100/15m"
    error_message = "LINKS_TABLE names the table; LOGIN_LIMIT_PER_IP is the default 100/15m"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.LINK_SECRET == terraform_data.link_secret[0].output && length(terraform_data.link_secret[0].output) >= 32
    error_message = "LINK_SECRET is the stack's kept secret, at least 32 characters"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.SIGN_IN_URL == "https://abc123.execute-api.eu-west-1.amazonaws.com/sign-in" && aws_lambda_function.this.environment[0].variables.USER_POOL_ID == "eu-west-1_Example"
    error_message = "the sign-in page defaults to the API's own GET /sign-in"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.EMAIL_FROM == "Example <no-reply@example.com>" && aws_lambda_function.this.environment[0].variables.SIGN_UP == "off"
    error_message = "EMAIL_FROM and SIGN_UP come from the variables"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.this.policy) == jsondecode(jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "UserPool", Effect = "Allow",
          Action   = ["cognito-idp:AdminGetUser", "cognito-idp:AdminCreateUser", "cognito-idp:AdminSetUserPassword", "cognito-idp:AdminUpdateUserAttributes"]
          Resource = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Example"]
        },
        {
          Sid       = "SendMail", Effect = "Allow", Action = ["ses:SendEmail"]
          Resource  = ["arn:aws:ses:eu-west-1:123456789012:identity/example.com"]
          Condition = { StringEquals = { "ses:FromAddress" = ["no-reply@example.com"] } }
        },
        {
          Sid      = "Logs", Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/magic-links:*"]
        },
        {
          Sid      = "LinkStore", Effect = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
          Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/magic-links-links"]
        },
      ]
    }))
    error_message = "the execution role's policy: ${aws_iam_role_policy.this.policy}"
  }
  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement == jsondecode(jsonencode([{
      Effect    = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = "123456789012" } }
    }]))
    error_message = "only Lambda, in this account, assumes the role"
  }
}

# The seed's mode: no table, nothing that needs it.
run "attribute_mode" {
  command = plan

  variables {
    link_store            = "attribute"
    ses_identity          = "no-reply@example.com"
    ses_configuration_set = "magic-links"
    # A sandbox: the testers' identities are authorized one by one.
    ses_sandbox_recipients = ["alice@example.com", "bob@example.org"]
    email_from             = "  \"support@example.com\" <no-reply@example.com> "
  }

  override_resource {
    target          = aws_cognito_user_pool.this
    override_during = plan
    values = {
      id       = "eu-west-1_Example"
      arn      = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Example"
      endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
    }
  }
  override_resource {
    target          = aws_cognito_user_pool_client.this
    override_during = plan
    values          = { id = "exampleclientid" }
  }
  override_resource {
    target          = aws_apigatewayv2_api.this
    override_during = plan
    values = {
      id            = "abc123"
      api_endpoint  = "https://abc123.execute-api.eu-west-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
    }
  }
  override_resource {
    target          = aws_cloudwatch_log_group.function
    override_during = plan
    values          = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/magic-links" }
  }

  assert {
    condition     = length(aws_dynamodb_table.links) == 0 && length(aws_cloudwatch_metric_alarm.links_throttles) == 0
    error_message = "no table and no table alarm in attribute mode"
  }
  assert {
    condition     = length(setintersection(keys(aws_lambda_function.this.environment[0].variables), ["LINKS_TABLE", "LOGIN_LIMIT_PER_IP", "LINK_SECRET"])) == 0 && length(terraform_data.link_secret) == 0
    error_message = "no LINKS_TABLE, LOGIN_LIMIT_PER_IP or LINK_SECRET without the table"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid] == ["UserPool", "SendMail", "Logs"]
    error_message = "no DynamoDB statement without the table"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.this.policy).Statement[1] == jsondecode(jsonencode({
      Sid = "SendMail", Effect = "Allow", Action = ["ses:SendEmail"]
      Resource = [
        "arn:aws:ses:eu-west-1:123456789012:identity/no-reply@example.com",
        "arn:aws:ses:eu-west-1:123456789012:configuration-set/magic-links",
        "arn:aws:ses:eu-west-1:123456789012:identity/alice@example.com",
        "arn:aws:ses:eu-west-1:123456789012:identity/bob@example.org",
      ]
      Condition = { StringEquals = { "ses:FromAddress" = ["no-reply@example.com"] } }
    }))
    error_message = "SendMail: the sender identity, the configuration set, each tester, from the bare address only"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.SES_CONFIGURATION_SET == "magic-links"
    error_message = "SES_CONFIGURATION_SET reaches the function"
  }
}

# The function's architecture is the build's (make build LAMBDA_ARCH=x86_64).
run "x86_64_build" {
  command = plan

  variables {
    build_dir = "tests/fixtures/x86_64"
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["x86_64"])
    error_message = "the function must run the architecture the zip was built for"
  }
}

run "build_names_no_lambda_architecture" {
  command = plan

  variables {
    build_dir = "tests/fixtures/wrong-arch"
  }

  expect_failures = [aws_lambda_function.this]
}

run "sender_outside_ses_identity" {
  command = plan

  variables {
    email_from   = "Example <no-reply@example.org>"
    ses_identity = "example.com"
  }

  expect_failures = [aws_lambda_function.this]
}

run "sender_is_another_address_than_the_identity" {
  command = plan

  variables {
    email_from   = "other@example.com"
    ses_identity = "no-reply@example.com"
  }

  expect_failures = [aws_lambda_function.this]
}

run "sender_on_a_subdomain_of_the_identity" {
  command = plan

  variables {
    email_from   = "Example <No-Reply@Mail.Example.com>"
    ses_identity = "example.com"
  }
}

# Operators get mail: a topic of this stack, or their own.
run "alarm_emails" {
  command = plan

  variables {
    alarm_emails = ["ops@example.com", "oncall@example.org"]
  }

  assert {
    condition     = length(aws_sns_topic.alarms) == 1 && toset([for s in aws_sns_topic_subscription.alarms : "${s.protocol}:${s.endpoint}"]) == toset(["email:ops@example.com", "email:oncall@example.org"])
    error_message = "a topic with one email subscription per address"
  }
}

run "alarm_topic_arn" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:ops"
  }

  assert {
    condition     = length(aws_sns_topic.alarms) == 0 && alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.function), values(aws_cloudwatch_metric_alarm.logs), aws_cloudwatch_metric_alarm.links_throttles) : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:ops"]) && a.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:ops"])])
    error_message = "every alarm notifies the given topic, in alarm and back to OK"
  }
}

# Mail template overrides (DESIGN.md "Contract: templates and languages"):
# make build TEMPLATES_DIR=... ships them in the zip and lists their hashes in
# bootstrap.json; the function finds them at TEMPLATES_DIR under its task root.
run "templates_dir" {
  command = plan

  variables {
    build_dir     = "tests/fixtures/arm64-templates"
    templates_dir = "tests/fixtures/templates"
    # No table, so no LINK_SECRET that is unknown until apply.
    link_store = "attribute"
  }

  # The pool, client and API IDs given, so the environment is known at plan.
  override_resource {
    target          = aws_cognito_user_pool.this
    override_during = plan
    values = {
      id       = "eu-west-1_Example"
      arn      = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Example"
      endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
    }
  }
  override_resource {
    target          = aws_cognito_user_pool_client.this
    override_during = plan
    values          = { id = "exampleclientid" }
  }
  override_resource {
    target          = aws_apigatewayv2_api.this
    override_during = plan
    values = {
      id            = "abc123"
      api_endpoint  = "https://abc123.execute-api.eu-west-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
    }
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.TEMPLATES_DIR == "templates"
    error_message = "TEMPLATES_DIR must name the zip's templates/ directory"
  }
}

run "no_templates_dir" {
  command = plan

  variables {
    link_store = "attribute"
  }

  # The pool, client and API IDs given, so the environment is known at plan.
  override_resource {
    target          = aws_cognito_user_pool.this
    override_during = plan
    values = {
      id       = "eu-west-1_Example"
      arn      = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Example"
      endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
    }
  }
  override_resource {
    target          = aws_cognito_user_pool_client.this
    override_during = plan
    values          = { id = "exampleclientid" }
  }
  override_resource {
    target          = aws_apigatewayv2_api.this
    override_during = plan
    values = {
      id            = "abc123"
      api_endpoint  = "https://abc123.execute-api.eu-west-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
    }
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "TEMPLATES_DIR")
    error_message = "without templates_dir the function runs its built-in templates"
  }
}

# The zip was built without the templates, or before they changed, or with
# templates the variable no longer names: the plan stops, naming make build.
run "templates_not_in_the_zip" {
  command = plan

  variables {
    templates_dir = "tests/fixtures/templates"
  }

  expect_failures = [aws_lambda_function.this]
}

run "templates_changed_since_the_build" {
  command = plan

  variables {
    build_dir     = "tests/fixtures/arm64-templates"
    templates_dir = "tests/fixtures/templates-edited"
  }

  expect_failures = [aws_lambda_function.this]
}

run "zip_templates_without_templates_dir" {
  command = plan

  variables {
    build_dir = "tests/fixtures/arm64-templates"
  }

  expect_failures = [aws_lambda_function.this]
}

run "templates_dir_without_templates" {
  command = plan

  variables {
    templates_dir = "tests/fixtures/arm64"
  }

  expect_failures = [aws_lambda_function.this]
}
