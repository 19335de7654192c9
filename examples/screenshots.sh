#!/usr/bin/env bash
# Screenshots of the pages people see, as headless Chromium renders them at phone and desktop
# width, in Chinese and English: the login page (each tab), each first-login step, the
# access-denied page, the portal and account management, each step of forgot password, the
# phone's QR confirmation, the pages WeCom opens, 二次认证 (账号管理's page, setting up an
# authenticator, the recovery codes, the step-up, the enrolment), and the admin console. Each page is fetched
# by walking the real flow with curl, so it is the page the server sends at that step;
# Chromium then renders it with the server's assets.
# Usage: examples/screenshots.sh [OUTDIR]   (needs chromium and fonts-noto-cjk from Debian)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-target/screenshots}")
mkdir -p "$OUT"
cargo build -q --bin unicas
BIN=target/debug/unicas
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
DB=$WORK/shots.db
PORT=18100
BASE=http://127.0.0.1:$PORT/cas

$BIN --db "$DB" service add --name 教务系统 --pattern 'https://jw.example.edu/*' >/dev/null
$BIN --db "$DB" service add --name 财务系统 --pattern 'https://cw.example.edu/*' >/dev/null
$BIN --db "$DB" service edit 1 --portal https://jw.example.edu/ --title 教务管理系统 \
  --description "选课、成绩、课表" >/dev/null
$BIN --db "$DB" service add --name 图书馆 --pattern 'https://lib.example.edu/*' \
  --portal https://lib.example.edu/ --description "借阅、预约、续借" >/dev/null
$BIN --db "$DB" service edit 2 --allow kind=staff >/dev/null
$BIN --db "$DB" service add --name 人事系统 --pattern 'https://hr.example.edu/*' --mfa required >/dev/null
python3 - "$WORK/roster.csv" <<'PY'
import sys
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
with open(sys.argv[1], "w") as f:
    f.write("account,name,kind,id_number,department,phone,email\n")
    for i, lang in enumerate(["zh", "en"]):
        first = f"1101052003080745{i}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(first, W)) % 11]
        f.write(f"2024000{i},张三{i},学生,{first}{check},物理学院,,\n")
PY
$BIN --db "$DB" user import "$WORK/roster.csv" >/dev/null 2>&1
RUST_LOG=warn $BIN --db "$DB" serve --listen 127.0.0.1:$PORT --public-url "$BASE" >/dev/null 2>&1 &
until curl -s -o /dev/null "$BASE/login"; do sleep 0.1; done

# shot NAME LANG FILE: renders a saved page at both widths.
shot() {
  local name=$1 lang=$2 file=$3
  sed -i "s#<head>#<head><base href=\"http://127.0.0.1:$PORT/\">#" "$file"
  # Tall enough for the longest page (account management) to show whole.
  for size in 390,1900 1280,1500; do
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --hide-scrollbars --user-data-dir="$WORK/chrome" --window-size=$size \
      --screenshot="$OUT/$name-$lang-${size%%,*}.png" "file://$file" >/dev/null 2>&1
  done
}

# totp SECRET OFFSET: an authenticator app's code now (RFC 6238), OFFSET steps on.
totp() {
  python3 - "$1" "$2" <<'PY'
import base64, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
step = int(time.time()) // 30 + int(sys.argv[2])
h = hmac.new(key, struct.pack(">Q", step), "sha1").digest()
o = h[19] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000))
PY
}
field() { sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" "$2" | head -1; }

i=0
for lang in zh en; do
  jar=$WORK/jar-$lang
  get() { curl -s -b "$jar" -c "$jar" "$@"; }
  account=2024000$i
  initial=$(sed -n "s/^$account,[^,]*,[^,]*,[0-9]\{12\}\([0-9X]*\),.*/\1/p" "$WORK/roster.csv")
  get -o "$WORK/login.html" "$BASE/login?service=https%3A%2F%2Fjw.example.edu%2F&lang=$lang"
  shot login "$lang" "$WORK/login.html"
  get -o "$WORK/sms.html" "$BASE/login?service=https%3A%2F%2Fjw.example.edu%2F&cllt=dynamicLogin"
  shot login-sms "$lang" "$WORK/sms.html"
  get -o "$WORK/qr.html" "$BASE/login?service=https%3A%2F%2Fjw.example.edu%2F&cllt=qrLogin"
  shot login-qr "$lang" "$WORK/qr.html"
  uuid=$(field uuid "$WORK/qr.html")

  get -o "$WORK/step1.html" --data-urlencode "username=$account" --data-urlencode "password=$initial" \
    --data-urlencode "execution=$(field execution "$WORK/login.html")" \
    --data-urlencode "service=https://jw.example.edu/" "$BASE/login"
  shot first-password "$lang" "$WORK/step1.html"
  token=$(field execution "$WORK/step1.html")
  get -o "$WORK/refused.html" -d "execution=$token&password=$initial&newPassword=abc12345&confirmPassword=abc12345" \
    "$BASE/login/first/password"
  shot first-password-refused "$lang" "$WORK/refused.html"
  get -o /dev/null -d "execution=$token&password=$initial&newPassword=New-Pass-2026&confirmPassword=New-Pass-2026" \
    "$BASE/login/first/password"
  get -o "$WORK/step2.html" "$BASE/login/first"
  shot first-phone "$lang" "$WORK/step2.html"
  phone=1380013800$i
  get -o "$WORK/sent.html" -d "execution=$token&action=send&phone=$phone" "$BASE/login/first/phone"
  shot first-phone-sent "$lang" "$WORK/sent.html"
  code=$($BIN --db "$DB" sms outbox --phone "$phone" --limit 1 | sed -n 's/.*验证码为\([0-9]\{6\}\).*/\1/p')
  get -o /dev/null -d "execution=$token&action=bind&code=$code" "$BASE/login/first/phone"
  get -o "$WORK/step3.html" "$BASE/login/first"
  shot first-done "$lang" "$WORK/step3.html"
  get -o /dev/null -d "execution=$token" "$BASE/login/first/done"
  get -o "$WORK/denied.html" "$BASE/login?service=https%3A%2F%2Fcw.example.edu%2F"
  shot access-denied "$lang" "$WORK/denied.html"

  # The phone that scanned the code, logged in as that student.
  get -o "$WORK/qr-confirm.html" "$BASE/qrCode/qrCodeLogin.do?uuid=$uuid"
  shot qr-confirm "$lang" "$WORK/qr-confirm.html"

  # The portal and account management, logged in as that student.
  get -o "$WORK/portal.html" "$BASE/portal"
  shot portal "$lang" "$WORK/portal.html"
  get -o "$WORK/account.html" "$BASE/account?done=phone"
  shot account "$lang" "$WORK/account.html"
  get -o "$WORK/verify.html" "$BASE/account/email"
  shot account-verify "$lang" "$WORK/verify.html"
  get -o /dev/null -d "execution=$(field execution "$WORK/verify.html")&next=email&action=password&password=New-Pass-2026" \
    "$BASE/account/verify"
  get -o "$WORK/email.html" "$BASE/account/email"
  get -o "$WORK/email-sent.html" -d "execution=$(field execution "$WORK/email.html")&action=send&email=student$i@example.edu" \
    "$BASE/account/email"
  shot account-email "$lang" "$WORK/email-sent.html"
  get -o "$WORK/questions.html" "$BASE/account/questions"
  shot account-questions "$lang" "$WORK/questions.html"
  get -o "$WORK/passkeys.html" "$BASE/account/passkeys"
  shot account-passkeys "$lang" "$WORK/passkeys.html"

  # 二次认证: 账号管理's page, setting up an authenticator (its first code), the recovery codes,
  # then the step-up 人事系统 asks for, and the enrolment of an account with no factor.
  # The bound phone is a factor: changing factors asks for one first (its code).
  get -o "$WORK/mfa-manage.html" "$BASE/mfa?next=factors"
  get -o "$WORK/mfa-manage-sent.html" -d "execution=$(field execution "$WORK/mfa-manage.html")&action=send&next=factors" \
    "$BASE/mfa"
  shot mfa-manage-sent "$lang" "$WORK/mfa-manage-sent.html"
  code=$($BIN --db "$DB" sms outbox --phone "$phone" --limit 1 | sed -n 's/.*验证码为\([0-9]\{6\}\).*/\1/p')
  get -o /dev/null -d "execution=$(field execution "$WORK/mfa-manage-sent.html")&action=sms&code=$code&next=factors" \
    "$BASE/mfa"
  get -o "$WORK/factors.html" "$BASE/account/factors"
  shot account-factors "$lang" "$WORK/factors.html"
  get -o "$WORK/factors-totp.html" -d "execution=$(field execution "$WORK/factors.html")&action=totp-start" \
    "$BASE/account/factors"
  shot account-factors-totp "$lang" "$WORK/factors-totp.html"
  secret=$(sed -n 's/.*<code class="secret">\([^<]*\)<.*/\1/p' "$WORK/factors-totp.html" | tr -d ' ')
  get -o "$WORK/recovery-codes.html" -d "execution=$(field execution "$WORK/factors-totp.html")&action=totp-confirm&code=$(totp "$secret" 0)" \
    "$BASE/account/factors"
  shot mfa-recovery-codes "$lang" "$WORK/recovery-codes.html"
  # A new session of the student (password only) meets 人事系统's step-up.
  jar=$WORK/jar-step-up-$lang
  get -o "$WORK/su-login.html" "$BASE/login?service=https%3A%2F%2Fhr.example.edu%2F&lang=$lang"
  get -o /dev/null --data-urlencode "username=$account" --data-urlencode "password=New-Pass-2026" \
    --data-urlencode "execution=$(field execution "$WORK/su-login.html")" \
    --data-urlencode "service=https://hr.example.edu/" "$BASE/login"
  get -o "$WORK/step-up.html" "$BASE/mfa?service=https%3A%2F%2Fhr.example.edu%2F"
  shot mfa-step-up "$lang" "$WORK/step-up.html"
  get -o "$WORK/step-up-wrong.html" -d "execution=$(field execution "$WORK/step-up.html")&action=totp&code=000000&service=https://hr.example.edu/" \
    "$BASE/mfa"
  shot mfa-step-up-wrong "$lang" "$WORK/step-up-wrong.html"
  nofactor=staff0$i
  $BIN --db "$DB" user add "$nofactor" --name 王老师 --kind staff --password Staff-Pass-2026 >/dev/null
  jar=$WORK/jar-nofactor-$lang
  get -o "$WORK/nf-login.html" "$BASE/login?service=https%3A%2F%2Fhr.example.edu%2F&lang=$lang"
  get -o /dev/null --data-urlencode "username=$nofactor" --data-urlencode "password=Staff-Pass-2026" \
    --data-urlencode "execution=$(field execution "$WORK/nf-login.html")" \
    --data-urlencode "service=https://hr.example.edu/" "$BASE/login"
  get -o "$WORK/mfa-enrol.html" "$BASE/mfa?service=https%3A%2F%2Fhr.example.edu%2F"
  shot mfa-enrol "$lang" "$WORK/mfa-enrol.html"
  jar=$WORK/jar-$lang

  # A validation for the wrong URL, for the console's mismatch list.
  ticket=$(get -o /dev/null -w '%{redirect_url}' "$BASE/login?service=https%3A%2F%2Fjw.example.edu%2Fhome" | sed -n 's/.*ticket=//p')
  curl -s -o /dev/null "$BASE/serviceValidate?service=https%3A%2F%2Fjw.example.edu%2Findex.do&ticket=$ticket"

  # The admin console: an administrator's login, the SMS second factor, then each page.
  jar=$WORK/jar-admin-$lang
  admin=it0$i
  $BIN --db "$DB" user add "$admin" --name 信息中心管理员 --kind admin --password Admin-Pass-2026 \
    --phone 1390013900$i --department 信息中心 >/dev/null
  get -o "$WORK/admin-login.html" "$BASE/login?lang=$lang"
  get -o /dev/null --data-urlencode "username=$admin" --data-urlencode "password=Admin-Pass-2026" \
    --data-urlencode "execution=$(field execution "$WORK/admin-login.html")" "$BASE/login"
  get -o "$WORK/admin-gate.html" "$BASE/admin"
  get -o "$WORK/admin-sent.html" -d "execution=$(field execution "$WORK/admin-gate.html")&action=send" "$BASE/admin/verify"
  shot admin-second-factor "$lang" "$WORK/admin-sent.html"
  code=$($BIN --db "$DB" sms outbox --phone 1390013900$i --limit 1 | sed -n 's/.*验证码为\([0-9]\{6\}\).*/\1/p')
  get -o /dev/null -d "execution=$(field execution "$WORK/admin-sent.html")&action=sms&code=$code" "$BASE/admin/verify"
  get -o "$WORK/admin-home.html" "$BASE/admin"
  shot admin-overview "$lang" "$WORK/admin-home.html"
  get -o "$WORK/admin-accounts.html" "$BASE/admin/accounts?q=%E7%89%A9%E7%90%86"
  shot admin-accounts "$lang" "$WORK/admin-accounts.html"
  get -o "$WORK/admin-account.html" "$BASE/admin/account?id=$account&done=unlock"
  shot admin-account "$lang" "$WORK/admin-account.html"
  get -o "$WORK/admin-services.html" "$BASE/admin/services?test=HTTPS%3A%2F%2FJW.example.edu%3A443%2Fhome"
  shot admin-services "$lang" "$WORK/admin-services.html"
  get -o "$WORK/admin-service.html" "$BASE/admin/service?id=1"
  shot admin-service "$lang" "$WORK/admin-service.html"
  get -o "$WORK/admin-audit.html" "$BASE/admin/audit?account=$account"
  shot admin-audit "$lang" "$WORK/admin-audit.html"
  get -o "$WORK/admin-import.html" "$BASE/admin/import"
  csrf=$(field csrf "$WORK/admin-import.html")
  printf 'account,name,kind,id_number,department,phone,email\n20249999,李四,学生,110105200308074599,物理学院,,\n' > "$WORK/bad.csv"
  get -o /dev/null -F "csrf=$csrf" -F "roster=@$WORK/bad.csv;type=text/csv" -F action=preview "$BASE/admin/import"
  test -n "$csrf"
  get -o "$WORK/admin-import.html" "$BASE/admin/import"
  shot admin-import "$lang" "$WORK/admin-import.html"
  get -o "$WORK/admin-totp.html" "$BASE/admin/totp"
  shot admin-totp "$lang" "$WORK/admin-totp.html"

  # Forgot password, in a fresh browser: the four steps by phone.
  jar=$WORK/jar-forgot-$lang
  get -o "$WORK/forgot1.html" "$BASE/forgot?lang=$lang"
  shot forgot-1-account "$lang" "$WORK/forgot1.html"
  i=$((i + 1))
done

# The later recovery steps sit behind the image captcha, and WeCom opens its pages itself:
# the server's templates render them.
cargo build -q --example page_gallery
target/debug/examples/page_gallery "$WORK/pages"
for page in "$WORK"/pages/*.html; do
  name=$(basename "$page" .html)
  shot "${name%-*}" "${name##*-}" "$page"
done
ls "$OUT"
