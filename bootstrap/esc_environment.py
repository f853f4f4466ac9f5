"""The Pulumi ESC environment that logs a stack into AWS through its deploy role (the `credentials: esc` choice)."""

from __future__ import annotations

import yaml


def esc_environment_name(project: str, stack: str) -> str:
    return f"{project}-{stack}"


def aws_login_environment(role_arn: str, session_name: str, hours: int) -> str:
    """ESC's aws-login provider with OIDC; the stack reads the credentials as environment variables."""
    document = {
        "values": {
            "aws": {
                "login": {
                    "fn::open::aws-login": {
                        "oidc": {"roleArn": role_arn, "sessionName": session_name, "duration": f"{hours}h"}
                    }
                }
            },
            "environmentVariables": {
                "AWS_ACCESS_KEY_ID": "${aws.login.accessKeyId}",
                "AWS_SECRET_ACCESS_KEY": "${aws.login.secretAccessKey}",
                "AWS_SESSION_TOKEN": "${aws.login.sessionToken}",
            },
        }
    }
    return yaml.safe_dump(document, sort_keys=False)
