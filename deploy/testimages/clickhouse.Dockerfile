# ClickHouse from Debian's package (18.16), for the compose test only: the
# compose files keep clickhouse/clickhouse-server, which users pull. Built by
# .ci/images on the debootstrapped base; the apt mirror is reached through
# the build's host network.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clickhouse-server clickhouse-client >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && mkdir -p /var/lib/clickhouse /var/log/clickhouse-server \
 && chown clickhouse:clickhouse /var/lib/clickhouse /var/log/clickhouse-server
# Last, so that the package layer above stays cached when it changes.
COPY clickhouse-18.16.xml /etc/clickhouse-server/users.d/zz-clickhouse-18.16.xml
USER clickhouse
EXPOSE 8123 9000 9009
ENTRYPOINT ["/usr/sbin/clickhouse-server", "--config-file=/etc/clickhouse-server/config.xml"]
