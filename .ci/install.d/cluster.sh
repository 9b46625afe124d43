#!/usr/bin/env bash
# The interop suites (test/interop): a NATS cluster, RabbitMQ with its MQTT plugin, and Redis
# for clustered aedes. Installs only what is missing; nothing is started here (the suites start
# their own broker processes on free ports).
set -euo pipefail

need=()
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || command -v rabbitmq-server >/dev/null 2>&1 ||
  [ -x /usr/sbin/rabbitmq-server ] || need+=(rabbitmq-server)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} for the interop suites"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
