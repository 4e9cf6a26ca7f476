// comet's main: parse the command line, run the command, report errors once, in rkt's way
// ("comet: <command>: <message>" on stderr, exit status 254). Call from main() only.
#ifndef COMET_CLI_COMET_APP_H_
#define COMET_CLI_COMET_APP_H_

namespace comet::cli {

int CometMain(int argc, char** argv);

}  // namespace comet::cli

#endif  // COMET_CLI_COMET_APP_H_
