/**
 * Console captures for the parser specs: what real devices print while they wait for us, each step ending where
 * the device waits (a prompt), with the event the matcher must report for it. ESC and CR are kept as sent.
 */
export interface TranscriptStep {
  output: string;
  expect: string;
}

export const TRANSCRIPTS: Record<string, TranscriptStep[]> = {
  busybox: [
    { output: '\r\n\r\nPlease press Enter to activate this console. ', expect: 'activate' },
    { output: '\r\n\r\nBusyBox v1.36.1 (2024-01-10) built-in shell (ash)\r\n\r\n/ # ', expect: 'shell' },
  ],
  'bash-colour': [
    { output: '\r\nDebian GNU/Linux 12 gw-17 ttyS0\r\n\r\ngw-17 login: ', expect: 'login' },
    { output: 'root\r\nPassword: ', expect: 'password' },
    { output: '\r\nLinux gw-17 6.1.0-18-arm64 #1 SMP Debian 6.1.76-1 aarch64\r\n\r\nLast login: Mon Nov 30 09:00:01 UTC 2026 on ttyS0\r\n\x1b]0;root@gw-17: ~\x07\x1b[01;31mroot@gw-17\x1b[00m:\x1b[01;34m~\x1b[00m# ', expect: 'shell' },
  ],
  'login-incorrect': [
    { output: '\r\ngw-17 login: ', expect: 'login' },
    { output: 'root\r\nPassword: ', expect: 'password' },
    { output: '\r\n\r\nLogin incorrect\r\ngw-17 login: ', expect: 'login-incorrect' },
  ],
  uboot: [
    { output: '\r\n\r\nU-Boot 2023.01 (Jan 15 2023 - 10:00:00 +0000)\r\n\r\nDRAM:  2 GiB\r\nMMC:   mmc@7e300000: 1\r\nHit any key to stop autoboot:  3 ', expect: 'uboot-autoboot' },
    { output: '\x08\x08\x08 0 \r\nU-Boot> ', expect: 'uboot-prompt' },
  ],
  'systemd-boot-noise': [
    {
      output:
        '[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x410fd083]\r\n[    1.234567] usb 1-1: new high-speed USB device number 2 using xhci_hcd\r\n[  \x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mSerial Getty on ttyS0\x1b[0m.\r\n[  \x1b[0;32m  OK  \x1b[0m] Reached target \x1b[0;1;39mMulti-User System\x1b[0m.\r\n\r\nDebian GNU/Linux 12 plc-3 ttyS0\r\n\r\nplc-3 login: ',
      expect: 'login',
    },
  ],
};
