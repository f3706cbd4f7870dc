package amqpbridge

import (
	"net"
	"net/url"
	"strconv"
)

// URLFromParts builds an AMQP URL from the connection options of the Python package (spec
// §11). Empty strings and a zero port take the defaults: localhost, 5672, guest, guest,
// virtual host "/". Login, password and virtual host are escaped, so any characters work.
func URLFromParts(host string, port int, login, password, vhost string) string {
	if host == "" {
		host = "localhost"
	}
	if port == 0 {
		port = 5672
	}
	if login == "" {
		login = "guest"
	}
	if password == "" {
		password = "guest"
	}
	if vhost == "" {
		vhost = "/"
	}
	u := url.URL{
		Scheme:  "amqp",
		User:    url.UserPassword(login, password),
		Host:    net.JoinHostPort(host, strconv.Itoa(port)),
		Path:    "/" + vhost,
		RawPath: "/" + url.PathEscape(vhost),
	}
	return u.String()
}
