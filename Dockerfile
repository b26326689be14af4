# runhistory team server: the studio is built with Node, then installed into a slim Python image.
#   docker build -t runhistory .
#   docker run -p 5000:5000 -e RUNHISTORY_BACKEND_STORE_URI=postgresql://… runhistory
# Every server flag can be given as a RUNHISTORY_* environment variable (docs/settings.md).

# ---- stage 1: the studio (frontend/ -> src/runhistory/server/static) -----------------------
FROM node:20-bookworm-slim AS studio
WORKDIR /build
COPY frontend/package.json frontend/package-lock.json frontend/
RUN cd frontend && npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ frontend/
RUN mkdir -p src/runhistory/server && cd frontend && npm run build

# ---- stage 2: the wheel, with the studio built above ---------------------------------------
FROM python:3.12-slim-bookworm AS wheel
WORKDIR /build
COPY pyproject.toml README.md LICENSE CHANGELOG.md hatch_build.py ./
COPY src/ src/
COPY --from=studio /build/src/runhistory/server/static/ src/runhistory/server/static/
# frontend/ is not copied here: the build hook takes the studio built above as it is.
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

# ---- stage 3: the runtime image -------------------------------------------------------------
FROM python:3.12-slim-bookworm
COPY --from=wheel /dist/*.whl /tmp/
RUN pip install --no-cache-dir "$(ls /tmp/*.whl)[server,postgres,s3]" && rm /tmp/*.whl \
    && useradd --create-home --uid 10001 runhistory && mkdir /keys && chown runhistory /keys
USER runhistory
ENV RUNHISTORY_HOME=/home/runhistory/.runhistory \
    RUNHISTORY_SERVER_HOST=0.0.0.0 \
    RUNHISTORY_SERVER_PORT=5000
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:5000/readyz', timeout=2)" || exit 1
ENTRYPOINT ["runhistory", "server"]
