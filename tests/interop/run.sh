#!/usr/bin/env bash
# Interop check: real third-party CAS clients validate tickets issued by a running unicas.
#   python-cas (PyPI), CAS 1.0/2.0/3.0 and SAML 1.1 over plain http on loopback;
#   Apache mod_auth_cas (Debian), serviceValidate and SAML 1.1 through a browser-like flow,
#   and single logout;
#   phpCAS (Debian php-cas), CAS 2.0, 3.0 and SAML 1.1 over https, and as a proxy
#   receiving a PGT at its https callback and obtaining a PT (phpCAS refuses plain http): a socat
#   TLS front with a test CA made here.
# Installs what it needs; run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! python3 -c 'import cas' 2>/dev/null; then
  pip install -q python-cas
fi
if ! command -v php >/dev/null || [ ! -f /usr/share/php/CAS.php ] || ! command -v socat >/dev/null \
  || [ ! -f /usr/lib/apache2/modules/mod_auth_cas.so ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli php-cas php-curl php-xml socat openssl \
    apache2 libapache2-mod-auth-cas curl >/dev/null
fi

cargo build -q --bin unicas
BIN=target/debug/unicas
WORK=$(mktemp -d)
PORT=18480
TLS_PORT=18443
cleanup() {
  kill "${UNICAS_PID:-}" "${SOCAT_PID:-}" "${PHP_PID:-}" "${CALLBACK_SOCAT_PID:-}" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Test CA and a certificate for IP 127.0.0.1, for the TLS front phpCAS needs.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=unicas interop CA" \
  -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$WORK/srv.key" -out "$WORK/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$WORK/ext"
openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
  -days 2 -extfile "$WORK/ext" -out "$WORK/srv.pem" 2>/dev/null
cat "$WORK/srv.pem" "$WORK/srv.key" >"$WORK/front.pem"
DB="$WORK/interop.db"
$BIN --db "$DB" user add 20230001 --name "张三" --password "Interop-Pass-1" --kind student \
  --attr memberOf=students --attr memberOf=library >/dev/null
# Attributes are released only when asked for: this application asks for every one.
$BIN --db "$DB" service add --name "interop" --pattern "https://app.interop.test/*" \
  --all-attributes >/dev/null
APACHE_CAS2=18481
APACHE_SAML=18482
for port in $APACHE_CAS2 $APACHE_SAML; do
  $BIN --db "$DB" service add --name "apache $port" --pattern "http://127.0.0.1:$port/protected/*" \
    --all-attributes >/dev/null
done
# A phpCAS proxy application: the portal may proxy through its callback on the TLS front.
PHP_PORT=18490
CALLBACK_TLS_PORT=18444
CALLBACK="https://127.0.0.1:$CALLBACK_TLS_PORT/pgtCallback"
$BIN --db "$DB" service add --name "portal" --pattern "https://portal.interop.test/*" \
  --proxy --proxy-callback "https://127.0.0.1:$CALLBACK_TLS_PORT/*" --all-attributes >/dev/null
$BIN --db "$DB" service add --name "backend" --pattern "https://backend.interop.test/*" \
  --all-attributes >/dev/null
$BIN --db "$DB" serve --listen 127.0.0.1:$PORT --public-url http://127.0.0.1:$PORT/cas \
  --ca-file "$WORK/ca.pem" >"$WORK/server.log" 2>&1 &
UNICAS_PID=$!

socat OPENSSL-LISTEN:$TLS_PORT,bind=127.0.0.1,reuseaddr,fork,cert="$WORK/front.pem",verify=0 \
  TCP:127.0.0.1:$PORT >/dev/null 2>&1 &
SOCAT_PID=$!
mkdir -p "$WORK/pgt"
CAS_HOST=127.0.0.1 CAS_PORT=$TLS_PORT CAS_PATH=/cas PGT_DIR="$WORK/pgt" \
  php -d 'error_reporting=E_ALL & ~E_DEPRECATED' -S 127.0.0.1:$PHP_PORT tests/interop/pgt_callback.php \
  >"$WORK/php.log" 2>&1 &
PHP_PID=$!
socat OPENSSL-LISTEN:$CALLBACK_TLS_PORT,bind=127.0.0.1,reuseaddr,fork,cert="$WORK/front.pem",verify=0 \
  TCP:127.0.0.1:$PHP_PORT >/dev/null 2>&1 &
CALLBACK_SOCAT_PID=$!

for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
  sleep 0.2
done

python3 tests/interop/python_cas.py "http://127.0.0.1:$PORT/cas"
for version in 2 3 saml; do
  ticket=$(python3 tests/interop/python_cas.py "http://127.0.0.1:$PORT/cas" --mint)
  php -d 'error_reporting=E_ALL & ~E_DEPRECATED' tests/interop/phpcas.php "$version" "https://127.0.0.1:$TLS_PORT/cas" "$WORK/ca.pem" "$ticket"
done
# phpCAS as a proxy: receives a PGT at its callback, obtains a PT; the back end validates it.
ticket=$(python3 tests/interop/python_cas.py "http://127.0.0.1:$PORT/cas" --mint https://portal.interop.test/app)
pt=$(php -d 'error_reporting=E_ALL & ~E_DEPRECATED' tests/interop/phpcas_proxy.php \
  "https://127.0.0.1:$TLS_PORT/cas" "$WORK/ca.pem" "$CALLBACK" "$WORK/pgt" "$ticket" \
  https://backend.interop.test/api 2>"$WORK/proxy.err") \
  || { cat "$WORK/proxy.err" "$WORK/php.log" >&2; tail -5 "$WORK/server.log" >&2; exit 1; }
answer=$(curl -s "http://127.0.0.1:$PORT/cas/proxyValidate?service=https%3A%2F%2Fbackend.interop.test%2Fapi&ticket=$pt")
case "$answer" in
  *"<cas:user>20230001</cas:user>"*"<cas:proxy>$CALLBACK</cas:proxy>"*) echo "phpCAS proxy: ok" ;;
  *) echo "phpCAS proxy: unexpected answer for '$pt': $answer" >&2; exit 1 ;;
esac

bash tests/interop/apache.sh "http://127.0.0.1:$PORT/cas" "https://127.0.0.1:$TLS_PORT/cas" "$WORK/ca.pem" \
  "$WORK" $APACHE_CAS2 $APACHE_SAML
echo "interop: 11 passed, 0 failed"
