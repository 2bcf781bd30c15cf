import Glibc

// Must come before any thread exists so that every thread inherits the blocked SIGINT/SIGTERM mask.
SignalWatcher.blockTerminationSignals()
exit(CommandLineTool.main(Array(CommandLine.arguments.dropFirst())))
