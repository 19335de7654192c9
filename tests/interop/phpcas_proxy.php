<?php
// A phpCAS proxy application (Debian php-cas): validates a service ticket asking for a PGT
// (delivered to pgt_callback.php), then obtains a proxy ticket for a back-end service and
// prints it. Usage: php phpcas_proxy.php HTTPS_BASE CA_FILE CALLBACK_URL PGT_DIR TICKET TARGET
require_once 'CAS.php';

[$_, $base, $ca, $callback, $pgtDir, $ticket, $target] = $argv;
$service = 'https://portal.interop.test/app';
$parts = parse_url($base);
$_SERVER['SERVER_NAME'] = 'portal.interop.test';
$_SERVER['SERVER_PORT'] = '443';
$_SERVER['HTTP_HOST'] = 'portal.interop.test';
$_SERVER['REQUEST_URI'] = '/app?ticket=' . $ticket;
$_SERVER['HTTPS'] = 'on';
$_GET['ticket'] = $ticket;

phpCAS::proxy(CAS_VERSION_2_0, $parts['host'], $parts['port'], $parts['path'], 'https://portal.interop.test', false);
phpCAS::setFixedServiceURL($service);
phpCAS::setFixedCallbackURL($callback);
phpCAS::setPGTStorageFile($pgtDir);
phpCAS::setNoClearTicketsFromUrl();
phpCAS::setCasServerCACert($ca, false);
phpCAS::setServerServiceValidateURL($base . '/serviceValidate');
phpCAS::setServerProxyValidateURL($base . '/proxyValidate');

if (!phpCAS::checkAuthentication() || phpCAS::getUser() !== '20230001') {
    fwrite(STDERR, "phpCAS proxy: authentication failed\n");
    exit(1);
}
$pt = phpCAS::retrievePT($target, $errCode, $errMsg);
if (!$pt || !preg_match('/^PT-[A-Za-z0-9]+$/', $pt)) {
    fwrite(STDERR, "phpCAS proxy: no proxy ticket ($errCode: $errMsg)\n");
    exit(1);
}
echo $pt;
