// EventLoop module. See ../shared/ARCHITECTURE.md.
