// The BIO between a client connection's SSL and its socket. It does what OpenSSL's socket BIO does (recv/send on a
// non-blocking descriptor, retry flags, end of stream) and one thing more: it remembers whether the last recv came
// back shorter than asked, i.e. emptied the socket's receive queue. With read-ahead on (the SSL asks for as much as
// its record buffer holds), a read that returned a record and left nothing in OpenSSL's buffers then proves what a
// short plain read proves: the next recv could only say EAGAIN, so the session waits for the next epoll edge
// instead of paying for it (TLS keep-alive: one recv per request instead of three).
#pragma once

#include <openssl/ssl.h>

namespace dlba::server {

// A BIO over `fd` (not closed by the BIO: the connection's io::Fd owns it), or nullptr when out of memory.
BIO* new_socket_bio(int fd);

// Forgets the last read's shortness (before an SSL call whose reads are to be judged).
void socket_bio_clear_short(BIO* bio);
// Whether a recv inside the SSL calls since the last clear came back short (fewer bytes than asked, or EAGAIN).
bool socket_bio_read_short(BIO* bio);

}  // namespace dlba::server
