"""esxpath san: the SAN's own view. Pure parsing of SCST's sysfs tree and scst.conf and of
Pacemaker's crm_mon XML into one dump document per storage node (sysfs, scstconf, pacemaker,
ids, dump); read.py is the only part that touches files or runs programs."""
