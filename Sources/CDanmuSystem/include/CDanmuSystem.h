// Linux headers the Swift Glibc module does not export. Headers only: no code lives here.
#ifndef C_DANMU_SYSTEM_H
#define C_DANMU_SYSTEM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <netinet/tcp.h>
#include <signal.h>
#endif
