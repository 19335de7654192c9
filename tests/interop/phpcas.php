<?php
// Validates one service ticket with phpCAS (Debian php-cas) over https, as a PHP application
// would. Usage: php phpcas.php VERSION(2|3) HTTPS_BASE CA_FILE TICKET
require_once 'CAS.php';

[$_, $version, $base, $ca, $ticket] = $argv;
$service = 'https://app.interop.test/home?x=1&y=%E4%B8%AD';
$parts = parse_url($base);
$_SERVER['SERVER_NAME'] = 'app.interop.test';
$_SERVER['SERVER_PORT'] = '443';
$_SERVER['HTTP_HOST'] = 'app.interop.test';
$_SERVER['REQUEST_URI'] = '/home?x=1&y=%E4%B8%AD&ticket=' . $ticket;
$_SERVER['HTTPS'] = 'on';
$_GET['ticket'] = $ticket;

$casVersion = $version === '3' ? CAS_VERSION_3_0 : CAS_VERSION_2_0;
phpCAS::client($casVersion, $parts['host'], $parts['port'], $parts['path'], 'https://app.interop.test', false);
phpCAS::setFixedServiceURL($service);
phpCAS::setNoClearTicketsFromUrl();
phpCAS::setCasServerCACert($ca, false);
$endpoint = $version === '3' ? '/p3/serviceValidate' : '/serviceValidate';
phpCAS::setServerServiceValidateURL($base . $endpoint);

if (!phpCAS::checkAuthentication()) {
    fwrite(STDERR, "phpCAS CAS $version.0: authentication failed\n");
    exit(1);
}
$user = phpCAS::getUser();
$attrs = phpCAS::getAttributes();
if ($user !== '20230001' || $attrs['cn'] !== '张三' || $attrs['memberOf'] !== ['students', 'library']) {
    fwrite(STDERR, "phpCAS CAS $version.0: unexpected user or attributes: " . var_export([$user, $attrs], true) . "\n");
    exit(1);
}
echo "phpCAS CAS $version.0: ok\n";
