// Linux headers the Swift Glibc module does not export. Headers only: no code lives here.
#ifndef C_DANMU_SYSTEM_H
#define C_DANMU_SYSTEM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <malloc.h>
#include <sys/socket.h>
#include <pthread.h>

// GNU extensions that Glibc's Swift module hides (it is built without _GNU_SOURCE). Declared under our own names
// and bound to the libc symbols with asm labels, so this stays a header without code.
extern int danmu_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) __asm__("accept4");
extern int danmu_pthread_setname_np(pthread_t thread, const char *name) __asm__("pthread_setname_np");
#endif
