resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "Magic-link sign-in: POST /login, the sign-in page and GET /me"

  # With a CORS configuration API Gateway answers OPTIONS preflight itself (no
  # OPTIONS route is needed) and replaces the function's CORS headers. A page
  # served by this API is same-origin and needs none; see local.cors_origins.
  dynamic "cors_configuration" {
    for_each = length(local.cors_origins) > 0 ? [local.cors_origins] : []
    content {
      allow_origins = cors_configuration.value
      allow_methods = ["GET", "POST"]
      allow_headers = ["authorization", "content-type"]
      max_age       = 600
    }
  }
}

resource "aws_apigatewayv2_integration" "this" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
}

# The routes the function serves without a token.
resource "aws_apigatewayv2_route" "public" {
  for_each = toset(["POST /login", "GET /login/{request}", "POST /approve", "GET /", "GET /sign-in", "GET /config.json", "GET /assets/{proxy+}"])

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.this.id}"
}

# Only tokens that this pool issued to this client reach GET /me; the function
# reads the verified claims from the request context.
resource "aws_apigatewayv2_authorizer" "this" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "cognito"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = "https://${aws_cognito_user_pool.this.endpoint}"
    audience = [aws_cognito_user_pool_client.this.id]
  }
}

resource "aws_apigatewayv2_route" "me" {
  api_id             = aws_apigatewayv2_api.this.id
  route_key          = "GET /me"
  target             = "integrations/${aws_apigatewayv2_integration.this.id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.this.id
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  # No headers, query strings, bodies or paths: the link's secret lives in the
  # URL fragment, which browsers never send, tokens stay out of the logs, and
  # the route template stands for the path, which for GET /login/{request}
  # holds the waiting browser's handle.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      ip                 = "$context.identity.sourceIp"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      authorizerError    = "$context.authorizer.error"
    })
  }
}
