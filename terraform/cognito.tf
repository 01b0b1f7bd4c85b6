resource "aws_cognito_user_pool" "this" {
  name           = var.name
  user_pool_tier = var.feature_plan

  # The address is the username, whatever its case.
  username_attributes = ["email"]
  username_configuration {
    case_sensitive = false
  }

  # Users have no passwords, so there is nothing to recover: only an
  # administrator can restore access.
  account_recovery_setting {
    recovery_mechanism {
      name     = "admin_only"
      priority = 1
    }
  }

  admin_create_user_config {
    allow_admin_create_user_only = !var.self_sign_up
  }

  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  # Hashes of the outstanding challenges (DESIGN.md "Contract: the challenge
  # attribute"). Custom attributes cannot be changed after the pool exists.
  schema {
    name                     = "authChallenge"
    attribute_data_type      = "String"
    mutable                  = true
    developer_only_attribute = false

    string_attribute_constraints {
      min_length = 0
      max_length = 2048
    }
  }

  # One function serves every trigger; see local.function_arn in main.tf for
  # why this is a built ARN and not a reference to the function.
  lambda_config {
    define_auth_challenge          = local.function_arn
    create_auth_challenge          = local.function_arn
    verify_auth_challenge_response = local.function_arn
    pre_sign_up                    = local.function_arn
    post_authentication            = local.function_arn
  }
}

resource "aws_cognito_user_pool_client" "this" {
  name         = "${var.name}-browser"
  user_pool_id = aws_cognito_user_pool.this.id

  # A browser cannot keep a secret.
  generate_secret = false

  # Magic links only: no password (USER_PASSWORD_AUTH, SRP) flows.
  explicit_auth_flows = ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

  # Unknown addresses go through the triggers (userNotFound) instead of
  # answering "user does not exist".
  prevent_user_existence_errors = "ENABLED"

  # Explicit lists: left empty, Cognito would let the client reach more
  # attributes. custom:authChallenge is never readable or writable by the client.
  read_attributes  = ["email", "email_verified", "name"]
  write_attributes = ["name"]

  auth_session_validity  = var.auth_session_validity
  access_token_validity  = var.access_token_validity
  id_token_validity      = var.id_token_validity
  refresh_token_validity = var.refresh_token_validity
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  enable_token_revocation = true
}
