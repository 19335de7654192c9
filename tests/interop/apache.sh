#!/usr/bin/env bash
# Apache mod_auth_cas (Debian libapache2-mod-auth-cas) protecting a location against a
# running unicas, through a browser-like flow with curl: once validating with
# serviceValidate, once with SAML 1.1 (CASValidateSAML On), then single logout.
# Usage: apache.sh CAS_HTTP_BASE CAS_HTTPS_BASE CA_FILE WORKDIR PORT_CAS2 PORT_SAML
# The two protected services must already be registered in unicas.
set -euo pipefail
CAS_HTTP=$1 CAS_HTTPS=$2 CA=$3 WORK=$4 PORT_CAS2=$5 PORT_SAML=$6
USER_ID=20230001 PASSWORD=Interop-Pass-1
MODS=/usr/lib/apache2/modules

mkdir -p "$WORK/apache/cgi" "$WORK/apache/cas-cookies"
chown www-data "$WORK/apache/cas-cookies" 2>/dev/null || chmod 777 "$WORK/apache/cas-cookies"
cat >"$WORK/apache/cgi/whoami" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\n\nREMOTE_USER=%s\n' "$REMOTE_USER"
CGI
chmod 755 "$WORK/apache/cgi/whoami"
chmod 755 "$WORK" "$WORK/apache" "$WORK/apache/cgi"

vhost() { # port, validate URL, saml flag
  cat <<VHOST
<VirtualHost 127.0.0.1:$1>
  ServerName 127.0.0.1:$1
  UseCanonicalName On
  CASValidateURL $2
  CASValidateSAML $3
  CASSSOEnabled On
  ScriptAlias /protected/ $WORK/apache/cgi/
  <Location /protected/>
    AuthType CAS
    CASAuthNHeader On
    Require valid-user
  </Location>
</VirtualHost>
VHOST
}

cat >"$WORK/apache/httpd.conf" <<CONF
ServerRoot /etc/apache2
ServerName 127.0.0.1
PidFile $WORK/apache/httpd.pid
ErrorLog $WORK/apache/error.log
LogLevel warn auth_cas:info
User www-data
Group www-data
Listen 127.0.0.1:$PORT_CAS2
Listen 127.0.0.1:$PORT_SAML
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authn_core_module $MODS/mod_authn_core.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule authz_user_module $MODS/mod_authz_user.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule cgid_module $MODS/mod_cgid.so
LoadModule auth_cas_module $MODS/mod_auth_cas.so
ScriptSock $WORK/apache/cgid.sock
CASCookiePath $WORK/apache/cas-cookies/
CASCertificatePath $CA
CASLoginURL $CAS_HTTP/login
CASDebug Off
$(vhost "$PORT_CAS2" "$CAS_HTTPS/serviceValidate" Off)
$(vhost "$PORT_SAML" "$CAS_HTTPS/samlValidate" On)
CONF

apache2 -f "$WORK/apache/httpd.conf" -k start
trap 'apache2 -f "$WORK/apache/httpd.conf" -k stop 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$PORT_SAML) 2>/dev/null && break
  sleep 0.2
done

# One browser: its cookie jar holds unicas's and Apache's cookies.
flow() { # port, label
  local port=$1 label=$2 jar="$WORK/apache/jar-$1" app="http://127.0.0.1:$1/protected/whoami"
  rm -f "$jar"
  local login
  login=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" "$app")
  case "$login" in "$CAS_HTTP/login?service="*) ;; *) echo "$label: not sent to CAS: $login" >&2; return 1;; esac
  local page execution service
  page=$(curl -s -c "$jar" -b "$jar" "$login")
  execution=$(printf '%s' "$page" | sed -n 's/.*name="execution" value="\([^"]*\)".*/\1/p' | head -1)
  service=$(printf '%s' "$page" | sed -n 's/.*name="service" value="\([^"]*\)".*/\1/p' | head -1 | sed 's/&amp;/\&/g')
  local back
  back=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" \
    --data-urlencode "username=$USER_ID" --data-urlencode "password=$PASSWORD" \
    --data-urlencode "execution=$execution" --data-urlencode "service=$service" \
    --data-urlencode "_eventId=submit" "$CAS_HTTP/login")
  case "$back" in "$app?ticket=ST-"*) ;; *) echo "$label: login did not return a ticket: $back" >&2; return 1;; esac
  # mod_auth_cas validates the ticket, sets its session cookie and redirects to the clean URL.
  local body
  body=$(curl -s -L -c "$jar" -b "$jar" "$back")
  if [ "$body" != "REMOTE_USER=$USER_ID" ]; then
    echo "$label: protected page said: $body" >&2; tail -5 "$WORK/apache/error.log" >&2; return 1
  fi
  echo "mod_auth_cas $label: ok"
}

flow "$PORT_CAS2" serviceValidate
flow "$PORT_SAML" "SAML 1.1"

# Single logout: logging out of unicas ends the Apache session too (CASSSOEnabled).
jar="$WORK/apache/jar-$PORT_CAS2"
status=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "http://127.0.0.1:$PORT_CAS2/protected/whoami")
if [ "$status" != 200 ]; then
  echo "mod_auth_cas: no Apache session before logout ($status)" >&2; exit 1
fi
curl -s -o /dev/null -c "$jar" -b "$jar" "$CAS_HTTP/logout"
for _ in $(seq 50); do
  status=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "http://127.0.0.1:$PORT_CAS2/protected/whoami")
  [ "$status" = 302 ] && break
  sleep 0.1
done
if [ "$status" != 302 ]; then
  echo "mod_auth_cas single logout: the Apache session survived ($status)" >&2; exit 1
fi
echo "mod_auth_cas single logout: ok"
