// Package systemd owns rssmd's systemd integration files: rssmd.service (Type=notify,
// watchdog, hardening that keeps V4L2 cameras and a real-time thread working), the example
// environment file rssmd.env for /etc/default/rssmd, and an example roscore.service. Its
// tests check the units with systemd-analyze; the sd_notify client is in sdnotify/.
package systemd
