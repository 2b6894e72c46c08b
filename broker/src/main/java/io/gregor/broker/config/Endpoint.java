package io.gregor.broker.config;

/** A listener: name (security protocol for now), host and port, parsed from {@code NAME://host:port}. */
public record Endpoint(String listenerName, String host, int port) {

    public static Endpoint parse(String property, String uri) {
        int sep = uri.indexOf("://");
        int colon = uri.lastIndexOf(':');
        if (sep <= 0 || colon <= sep + 2 && !uri.substring(sep + 3).startsWith(":")) {
            throw new ConfigException(property, uri, "expected NAME://host:port");
        }
        String name = uri.substring(0, sep).toUpperCase(java.util.Locale.ROOT);
        String host = uri.substring(sep + 3, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(uri.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(property, uri, "port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(property, uri, "port out of range");
        }
        return new Endpoint(name, host, port);
    }

    public Endpoint withPort(int newPort) {
        return new Endpoint(listenerName, host, newPort);
    }

    @Override
    public String toString() {
        return listenerName + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
