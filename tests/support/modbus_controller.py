#!/usr/bin/python3
"""An independent siren controller for tests: pymodbus's Modbus TCP server (Debian's
python3-pymodbus), with the controller logic of a Tocsin profile written here again in Python.
Records every write as a JSON line: {"address", "values"}.

default profile: a write covering holding registers 0-2 with a new sequence sounds the pattern
(10 = command, 14 = sequence). federal-signal: arm (register 3 = 0) then a tone (register 2) sets
the activation coil 0; cancel (register 3 = 3) clears it."""
import argparse, json, logging, threading

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartTcpServer

args = None
lock = threading.Lock()


class Registers(ModbusSequentialDataBlock):
    coils = None
    recent = []

    def setValues(self, address, values):
        super().setValues(address, values)
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"address": address, "values": list(values)}) + "\n")
        regs = self.values
        if args.profile == "default":
            seq = regs[2]
            if address <= 2 and seq != 0:
                if seq not in self.recent:
                    self.recent = (self.recent + [seq])[-16:]
                    if 1 <= regs[0] <= 4:
                        regs[10] = regs[0]
                    elif regs[0] == 5:
                        regs[10] = 0
                regs[14] = seq  # acknowledged, applied now or before
        else:
            if address == 2 and regs[3] == 0:
                self.coils.setValues(0, [1])
            if address == 3 and regs[3] == 3:
                self.coils.setValues(0, [0])


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--profile", default="default")
    args = p.parse_args()
    logging.disable(logging.CRITICAL)
    hr = Registers(0, [0] * 32)
    hr.values[11] = 1
    hr.values[12] = 87
    co = ModbusSequentialDataBlock(0, [0] * 16)
    hr.coils = co
    slave = ModbusSlaveContext(hr=hr, co=co, zero_mode=True)
    StartTcpServer(context=ModbusServerContext(slaves=slave, single=True),
                   address=("127.0.0.1", args.port))


if __name__ == "__main__":
    main()
