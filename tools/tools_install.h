/*
 * tools_install.h -- "tlspolicy install": the atomic replace of a connectors
 * file (install.c).
 * Never: used outside tools/.
 */
#ifndef TOOLS_INSTALL_H
#define TOOLS_INSTALL_H

int install_main(const char *progname, int argc, char **argv);

#endif
