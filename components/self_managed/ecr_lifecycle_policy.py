"""The image repository's lifecycle policy: old images go, the newest ones stay for rollbacks."""

from __future__ import annotations


def keep_newest_images(count: int) -> dict:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Keep the newest {count} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": count},
                "action": {"type": "expire"},
            }
        ]
    }
