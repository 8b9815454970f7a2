# guidegen in a container: the Debian release, system packages and fonts CI uses, so a
# clinic's laptop or a cluster job renders the same PDFs as CI.
#
#   docker build -t guidegen .
#   docker run --rm -v "$PWD:/project" --user "$(id -u):$(id -g)" guidegen check data/athletes.csv
#
# Not part of `make test` (building it needs a container engine and the network).
FROM python:3.11-slim-bookworm

# The packages of scripts/setup-test-env.sh (keep the two lists in step) less chromium and
# Node.js, which only the browser tests need: Pango for WeasyPrint, HarfBuzz subsetting (as CI
# has it; guidegen subsets fonts with the pinned uharfbuzz wheel either way), DejaVu (the
# brand fonts), WenQuanYi (CJK and Korean names) and Noto Color Emoji (emoji in names),
# fontconfig (fc-list: the font coverage check, `guidegen doctor`),
# poppler-utils (pdftotext, pdffonts, pdftoppm). The same fonts as CI: a runner whose name
# no installed font can draw gets no guide, so a missing font changes what is built.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fontconfig fonts-dejavu-core fonts-wqy-microhei fonts-noto-color-emoji \
      poppler-utils \
 && rm -rf /var/lib/apt/lists/* \
 && fc-cache -f

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONUNBUFFERED=1 \
    XDG_CACHE_HOME=/tmp/.cache

# guidegen is installed as a package (not editable): the default templates, content and
# example brands travel inside it as package data (generator/defaults/, symlinks to the
# example project's folders that the build copies in), at the exact versions of
# requirements.lock, the ones CI tested. The example project stays in /opt/guidegen, to try
# the image on:
#   docker run --rm guidegen --project /opt/guidegen check /opt/guidegen/data/athletes.csv
WORKDIR /opt/guidegen
COPY pyproject.toml README.md requirements.lock guidegen.toml ./
COPY generator ./generator
COPY content ./content
COPY templates ./templates
COPY brands ./brands
COPY data ./data
RUN pip install -c requirements.lock . \
 && rm -rf build guidegen.egg-info \
 && useradd --create-home --uid 10001 --user-group guidegen \
 && mkdir /project && chown guidegen:guidegen /project \
 && guidegen --version

# Not root. Run with --user "$(id -u):$(id -g)" to write outputs as the owner of the mounted
# folder; XDG_CACHE_HOME above gives any user a writable fontconfig cache.
USER guidegen
WORKDIR /project
ENTRYPOINT ["guidegen"]
CMD ["--help"]
