"""The Bus port: Kafka (aiokafka) and in-process implementations, envelope codec, dead-letter topic"""

from __future__ import annotations
