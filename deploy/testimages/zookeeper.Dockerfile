# ZooKeeper from Debian's packages (the server of the zookeeper source
# package, libzookeeper-java, on the headless JRE), for the cluster compose
# test only: it stands in for the clickhouse/clickhouse-keeper image of
# deploy/cluster/docker-compose.yml, which users pull. It answers where
# Keeper does (client port 9181, data under /var/lib/clickhouse, the
# keeper-data volume) and to the file's health check (`ruok` through nc).
# Built by .ci/images on the debootstrapped base; the apt mirror is reached
# through the build's host network.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libzookeeper-java default-jre-headless netcat-openbsd >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && useradd --system --home-dir /var/lib/clickhouse zookeeper \
 && mkdir -p /var/lib/clickhouse/zookeeper \
 && chown -R zookeeper:zookeeper /var/lib/clickhouse
USER zookeeper
EXPOSE 9181
# srvr: what chtest.NewCluster waits on; ruok: the compose file's check.
ENTRYPOINT ["java", "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.4lw.commands.whitelist=ruok,srvr", \
  "-cp", "/usr/share/java/zookeeper.jar", "org.apache.zookeeper.server.ZooKeeperServerMain", "9181", "/var/lib/clickhouse/zookeeper"]
