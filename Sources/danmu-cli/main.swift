print("danmu-cli: not yet implemented")
