# Alarms for operators. Each one fires on the first bad 5 minutes and clears
# itself; README "Alarms" says what each means and what to do first. They
# notify the SNS topic of alarm_topic_arn, or one created here for
# alarm_emails, or nobody (they still show in the CloudWatch console).

resource "aws_sns_topic" "alarms" {
  count = var.alarm_topic_arn == null && length(var.alarm_emails) > 0 ? 1 : 0

  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each = toset(var.alarm_emails)

  topic_arn = local.alarm_actions[0]
  protocol  = "email"
  endpoint  = each.value
}

locals {
  # No topic (and so no subscription) without alarm_topic_arn or alarm_emails.
  alarm_actions = var.alarm_topic_arn != null ? [var.alarm_topic_arn] : aws_sns_topic.alarms[*].arn

  # Metrics counted from the function's one JSON log line per invocation
  # (logging/): name -> filter pattern.
  log_metrics = {
    # The account lookup failed (Cognito down, throttled or denied): POST /login
    # answers 502 and nobody gets a link.
    LoginUpstreamFailures = "{ ($.route = \"POST /login\") && ($.status = 502) }"
    # SES refused or failed a mail after the lookup: the user sees 202 and
    # waits for a mail that never comes.
    MailSendFailures = "{ $.outcome = \"send_failed\" }"
    # The link store refused a write: no usable link was sent.
    LinkStoreFailures = "{ $.outcome = \"store_failed\" }"
  }
}

resource "aws_cloudwatch_log_metric_filter" "function" {
  for_each = local.log_metrics

  name           = "${var.name}-${each.key}"
  log_group_name = aws_cloudwatch_log_group.function.name
  pattern        = each.value

  metric_transformation {
    name      = each.key
    namespace = "MagicLinks/${var.name}"
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "logs" {
  for_each = local.log_metrics

  alarm_name        = "${var.name}-${each.key}"
  alarm_description = "${each.key} from the function's logs (${each.value}); see README \"Alarms\"."
  namespace         = aws_cloudwatch_log_metric_filter.function[each.key].metric_transformation[0].namespace
  metric_name       = aws_cloudwatch_log_metric_filter.function[each.key].metric_transformation[0].name

  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}

# Lambda's own metrics: invocations that failed (an error returned to Cognito
# or API Gateway, a crash, a timeout) and invocations refused for concurrency.
resource "aws_cloudwatch_metric_alarm" "function" {
  for_each = toset(["Errors", "Throttles"])

  alarm_name        = "${var.name}-Function${each.key}"
  alarm_description = "Lambda ${each.key} of ${local.function_name}; see README \"Alarms\"."
  namespace         = "AWS/Lambda"
  metric_name       = each.key
  dimensions = {
    FunctionName = local.function_name
  }

  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}

# An on-demand table still throttles (a hot partition, the account's table
# limits): reads and writes refused after the SDK's retries.
resource "aws_cloudwatch_metric_alarm" "links_throttles" {
  count = local.links_table ? 1 : 0

  alarm_name        = "${var.name}-LinksTableThrottles"
  alarm_description = "Throttled reads and writes on ${aws_dynamodb_table.links[0].name}; see README \"Alarms\"."

  metric_query {
    id          = "throttles"
    expression  = "FILL(reads, 0) + FILL(writes, 0)"
    label       = "Throttle events"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { reads = "ReadThrottleEvents", writes = "WriteThrottleEvents" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = metric_query.value
        dimensions = {
          TableName = aws_dynamodb_table.links[0].name
        }
        stat   = "Sum"
        period = 300
      }
    }
  }

  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}
