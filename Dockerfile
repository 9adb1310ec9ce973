# Dashboard image: pip-based on python:3.11-slim (what CI installs and tests), non-root, health-checked.
# Build:  docker build -t pret-a-depenser .
# Run:    docker run -p 5006:5006 -e PANEL_ALLOW_WEBSOCKET_ORIGIN=localhost:5006 pret-a-depenser
# Mount real data with -v /path/to/data:/data and set CREDIT_WAREHOUSE / CREDIT_MODEL_DIR accordingly.
FROM python:3.11-slim

# CPU wheels of torch/torchvision keep the image small; leave empty to take PyPI's default builds.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# Build the synthetic warehouse and train the scorer at build time, so a container serves at once.
ARG PREPARE_DATA=1

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    CREDIT_WAREHOUSE=/data/warehouse.duckdb \
    CREDIT_MODEL_DIR=/data/model \
    PROTOVIT_RUN=/data/protovit \
    PROTOVIT_IMAGES=/data/images \
    PORT=5006 \
    PANEL_ADDRESS=0.0.0.0 \
    PANEL_NUM_THREADS=4 \
    PANEL_ALLOW_WEBSOCKET_ORIGIN=localhost:5006

RUN useradd --create-home --uid 1000 app && mkdir -p /data && chown app:app /data
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY dashboard ./dashboard
COPY warehouse ./warehouse
COPY models ./models
COPY protovit ./protovit
COPY scripts ./scripts
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
        pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0 torchvision==0.28.0; \
    fi \
 && pip install -c constraints.txt .

USER app
RUN if [ "$PREPARE_DATA" = "1" ]; then python scripts/serve.py --prepare-only; fi

EXPOSE 5006
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/liveness', timeout=4).status != 200)"

CMD ["python", "scripts/serve.py"]
