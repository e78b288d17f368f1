# Caddy built from its Go module (.ci/images), for the compose test's tls
# profile only; users pull the caddy image. Same paths as that image.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY caddy /usr/bin/caddy
ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data
RUN mkdir -p /config/caddy /data/caddy /etc/caddy
EXPOSE 80 443
WORKDIR /srv
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
