"""Logs in to unicas like a browser, then validates the ticket with python-cas (PyPI).

Usage: python_cas.py BASE                   -- check CAS 1.0, 2.0, 3.0 and SAML with python-cas
       python_cas.py BASE --mint [SERVICE]  -- print one fresh service ticket (for phpCAS)
"""
import html.parser
import http.cookiejar
import sys
import urllib.error
import urllib.parse
import urllib.request

import cas

SERVICE = "https://app.interop.test/home?x=1&y=%E4%B8%AD"
USER, PASSWORD = "20230001", "Interop-Pass-1"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Inputs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.values = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and "name" in a:
            self.values[a["name"]] = a.get("value", "")


def mint(base, service=SERVICE):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(base + "/login?" + urllib.parse.urlencode({"service": service})).read().decode()
    form = Inputs()
    form.feed(page)
    assert "请输入学号/工号" in page
    data = urllib.parse.urlencode({
        "username": USER, "password": PASSWORD, "execution": form.values["execution"],
        "_eventId": "submit", "service": form.values["service"],
    }).encode()
    try:
        opener.open(base + "/login", data)
        raise SystemExit("login did not redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 302, e.code
        location = e.headers["Location"]
    assert location.startswith(service), location
    assert "ticket=ST-" in location, location
    return location.split("ticket=")[1]


def main():
    base = sys.argv[1]
    if "--mint" in sys.argv:
        rest = sys.argv[sys.argv.index("--mint") + 1:]
        print(mint(base, *rest))
        return
    for version in (1, 2, 3):
        client = cas.CASClient(version=version, service_url=SERVICE, server_url=base + "/")
        user, attributes, _ = client.verify_ticket(mint(base))
        assert user == USER, (version, user)
        if version == 3:
            assert attributes["cn"] == "张三", attributes
            assert attributes["memberOf"] == ["students", "library"], attributes
            assert attributes["isFromNewLogin"] == "true", attributes
        # A ticket is good once.
        ticket = mint(base)
        client.verify_ticket(ticket)
        again, _, _ = client.verify_ticket(ticket)
        assert again is None, (version, again)
        print(f"python-cas CAS {version}.0: ok")
    client = cas.CASClient(version="CAS_2_SAML_1_0", service_url=SERVICE, server_url=base + "/")
    user, attributes, _ = client.verify_ticket(mint(base))
    assert user == USER, user
    assert attributes["cn"] == "张三", attributes
    assert attributes["memberOf"] == ["students", "library"], attributes
    print("python-cas SAML 1.1: ok")


main()
