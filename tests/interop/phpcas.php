<?php
// Validates one service ticket with phpCAS (Debian php-cas) over https, as a PHP application
// would. Usage: php phpcas.php VERSION(2|3|saml) HTTPS_BASE CA_FILE TICKET
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

$casVersion = ['2' => CAS_VERSION_2_0, '3' => CAS_VERSION_3_0, 'saml' => SAML_VERSION_1_1][$version];
phpCAS::client($casVersion, $parts['host'], $parts['port'], $parts['path'], 'https://app.interop.test', false);
phpCAS::setFixedServiceURL($service);
phpCAS::setNoClearTicketsFromUrl();
phpCAS::setCasServerCACert($ca, false);
if ($version === 'saml') {
    phpCAS::setServerSamlValidateURL($base . '/samlValidate');
} else {
    $endpoint = $version === '3' ? '/p3/serviceValidate' : '/serviceValidate';
    phpCAS::setServerServiceValidateURL($base . $endpoint);
}

if (!phpCAS::checkAuthentication()) {
    fwrite(STDERR, "phpCAS $version: authentication failed\n");
    exit(1);
}
$user = phpCAS::getUser();
$attrs = phpCAS::getAttributes();
if ($user !== '20230001' || $attrs['cn'] !== '张三' || $attrs['memberOf'] !== ['students', 'library']) {
    fwrite(STDERR, "phpCAS $version: unexpected user or attributes: " . var_export([$user, $attrs], true) . "\n");
    exit(1);
}
echo "phpCAS $version: ok\n";
