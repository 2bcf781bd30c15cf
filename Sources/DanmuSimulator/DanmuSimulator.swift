// DanmuSimulator module. See ../shared/ARCHITECTURE.md.
