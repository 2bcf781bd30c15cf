// DanmuCodecs module. See ../shared/ARCHITECTURE.md.
