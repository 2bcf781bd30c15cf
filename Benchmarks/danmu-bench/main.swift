print("danmu-bench: not yet implemented")
