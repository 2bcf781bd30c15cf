// DanmuClient module. See ../shared/ARCHITECTURE.md.
